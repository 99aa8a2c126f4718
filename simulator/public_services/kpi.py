"""The Decision 766 formulas (kpis.md §1) applied to one dossier or petition as it was written.

Each function returns ``(kpi_id, numerator, denominator)`` contributions; summing them over the
dossiers received in a month (and a commune) gives the month's ground truth, so every level of
the truth adds up exactly. Dates are compared by calendar day, the precision of the appointment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.public_services.catalogue import Procedure, Publication

FINISHED = (7, 9, 10)
# NoiDungXuLy of the processing-log row written when the dossier reaches the national portal.
SYNC_STEP = "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia"
COMPLETED = (9, 10)


@dataclass(frozen=True)
class DossierFacts:
    """What the KPIs need of a dossier received (status ≠ 1, 3) and not quarantined."""

    received: date  # NgayTiepNhan
    status: int  # TrangThaiHoSo at the end of the data
    due: date  # NgayHenTra
    end: date | None  # NgayKetThucXuLy (set for status 7, 9, 10)
    supplements: tuple[tuple[date, date | None], ...]  # (NgayYeuCau, NgayBoSung)
    channel: int  # KenhThucHien
    applicant: int  # LoaiDoiTuong
    vneid: bool  # TaiKhoanDuocXacThucVoiVNeID
    fee_bearing: bool  # the procedure's catalogue fee is non-zero
    fees: tuple[int, ...]  # DanhSachLePhi.Gia
    paid_online: int  # DuocThanhToanTrucTuyen
    attachments: tuple[tuple[bool, bool, bool], ...]  # (DuocSoHoa, DuocTaiSuDung, DuocLayTuKhoDMQG)
    result_required: bool  # the procedure returns a result (CoKetQua) and status is 9 or 10
    result_electronic: bool  # a KetQuaXuLy row with LaBanDienTu = 1 exists
    complained: bool  # at least one PhanAnhKienNghi row names this MaHoSo
    procedure: str = ""  # MaTTHC
    synced: bool = False  # a NhatKyXuLy row SYNC_STEP: sent to the national portal
    result_procedure: bool = False  # the procedure returns a result document (CoKetQua)
    synced_on: date | None = None  # the day the SYNC_STEP row was written


def add_working_days(day: date, n: int) -> date:
    """The day ``n`` working days (Mon–Fri) after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def next_working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def month_end(day: date) -> date:
    following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return following - timedelta(days=1)


def paused_days(supplements: tuple[tuple[date, date | None], ...], end: date) -> int:
    """Calendar days waiting for the applicant, each wait cut at ``end`` (unanswered: until it)."""
    total = 0
    for asked, answered in supplements:
        stop = min(answered or end, end)
        total += max(0, (stop - asked).days)
    return total


def on_time(d: DossierFacts) -> bool:
    """766-2.1 test for one dossier, its period being its reception month.

    End = NgayKetThucXuLy when finished (7, 9, 10); otherwise (in progress 2/4 or paused 5/6/8)
    the last day of the reception month. More than one supplement request ⇒ late. Otherwise the
    days between a supplement request and the applicant's answer (or the end, if unanswered)
    are added to the appointment date, i.e. excluded from the processing time.
    """
    if len(d.supplements) > 1:
        return False
    end = d.end if d.status in FINISHED and d.end is not None else month_end(d.received)
    return end <= d.due + timedelta(days=paused_days(d.supplements, end))


def processing_days(d: DossierFacts) -> int:
    """766-2.2 processing time of a completed dossier: calendar days from reception to
    NgayKetThucXuLy (the time the applicant waits; docs/kpis.md, 766-2.2)."""
    assert d.end is not None
    return max(0, (d.end - d.received).days)


def processing_days_net(d: DossierFacts) -> int:
    """766-2.2n: the same minus the days waiting for the applicant to supplement (never below
    zero), the Decree 61/2018 reading of the authority's processing time."""
    assert d.end is not None
    return max(0, (d.end - d.received).days - paused_days(d.supplements, d.end))


def digitised(d: DossierFacts) -> bool:
    """766-4.2: at least one attachment, every one digitised, and an electronic result when the
    procedure returns a result document, whatever the status (an unfinished dossier of such a
    procedure is not digitised yet)."""
    ok = bool(d.attachments) and all(s for s, _, _ in d.attachments)
    return ok and (not d.result_procedure or d.result_electronic)


def dossier_contributions(d: DossierFacts) -> list[tuple[str, int, int]]:
    """Contributions of one dossier to the dossier-level 766 indicators of its reception month.

    - 766-2.1 on-time / received; 766-2.2 Σ elapsed days / completed (9, 10); 766-2.2n the
      same net of supplement waits;
    - 766-3.3r channel 2 / received (766-3.3 = 3.3r × 766-1.4: records.DERIVED_PRODUCTS);
    - 766-3.6 paid online (DuocThanhToanTrucTuyen 1 or 2) / dossiers of fee-bearing procedures
      with at least one non-zero fee row;
    - 766-4.2 digitised dossiers (``digitised``) / received; 766-4.2f the same / completed;
    - 766-4.1 dossiers with an electronic result (KetQuaXuLy.LaBanDienTu = 1) / dossiers of
      procedures returning a result document (CoKetQua) that reached status 9 or 10;
    - 766-4.3 dossiers with ≥1 attachment re-used / received;
    - 766-4.4 dossiers with ≥1 attachment taken from the national data store
      (DuocLayTuKhoDMQG; results pushed to the store are not modelled) / received;
    - 766-4.5b dossiers from a VNeID-verified account / citizen dossiers (LoaiDoiTuong 1);
    - 766-5.4 received − late (766-2.1) − dossiers with a complaint / received (can be negative
      for a tiny cell where one dossier is both late and complained about: the official formula);
    - 766-1.4 dossiers synced to the national portal (a SYNC_STEP log row, written at reception)
      / received: the portal only knows synced dossiers, so max(received by the provincial
      system, received by the portal) is the provincial count.
    """
    out: list[tuple[str, int, int]] = [("766-1.4", int(d.synced), 1)]
    ok = on_time(d)
    out.append(("766-2.1", int(ok), 1))
    completed = d.status in COMPLETED and d.end is not None
    if completed:
        out.append(("766-2.2", processing_days(d), 1))
        out.append(("766-2.2n", processing_days_net(d), 1))
    out.append(("766-3.3r", int(d.channel == 2), 1))
    if d.fee_bearing and any(fee != 0 for fee in d.fees):
        out.append(("766-3.6", int(d.paid_online in (1, 2)), 1))
    out.append(("766-4.2", int(digitised(d)), 1))
    if completed:
        out.append(("766-4.2f", int(digitised(d)), 1))
    if d.result_required:
        out.append(("766-4.1", int(d.result_electronic), 1))
    out.append(("766-4.3", int(any(r for _, r, _ in d.attachments)), 1))
    out.append(("766-4.4", int(any(k for _, _, k in d.attachments)), 1))
    if d.applicant == 1:
        out.append(("766-4.5b", int(d.vneid), 1))
    out.append(("766-5.4", 1 - int(not ok) - int(d.complained), 1))
    return out


@dataclass(frozen=True)
class PetitionFacts:
    received: date  # PhanAnhKienNghi.NgayTiepNhan
    outcome: int  # HinhThucXuLy: 1 handled, 2 refused, 3 supplement requested
    handled: date | None  # NgayXuLy (None: not handled by the end of the data)
    satisfied: bool | None  # HaiLong (None: not rated)
    repeated: bool  # LapLai


PETITION_LIMITS = {1: 15, 2: 2, 3: 5}  # working days per outcome (766-5.2)


def working_days_between(start: date, stop: date) -> int:
    """Working days (Mon–Fri) after ``start`` up to and including ``stop``."""
    days = 0
    day = start
    while day < stop:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


def petition_on_time(p: PetitionFacts) -> bool:
    """Handled within its limit (15 working days; refusal 2; supplement request 5) counted from
    the reception day; a petition not yet handled is not "handled in time"."""
    if p.handled is None:
        return False
    return working_days_between(p.received, p.handled) <= PETITION_LIMITS[p.outcome]


def petition_contributions(p: PetitionFacts) -> list[tuple[str, int, int]]:
    """766-5.2 on time / received; 766-5.3 (received − unsatisfied − late − repeated) / received,
    each term counted separately as the formula reads (a petition can be subtracted twice)."""
    ok = petition_on_time(p)
    unsatisfied = p.satisfied is False
    return [
        ("766-5.2", int(ok), 1),
        ("766-5.3", 1 - int(unsatisfied) - int(not ok) - int(p.repeated), 1),
    ]


def overdue_at(
    received: date, finished: date | None, due: date, month_ends: list[date]
) -> list[tuple[date, int]]:
    """OPS-OVERDUE-DOSSIERS: at each month end (cut at the end of the data) where the dossier was
    received and not yet finished, (month end, 1 if its appointment date has passed else 0)."""
    out = []
    for cut in month_ends:
        if received <= cut and (finished is None or finished > cut):
            out.append((cut, int(due < cut)))
    return out


def procedure_marks(d: DossierFacts, citizen_procedure: bool) -> list[str]:
    """The per-procedure indicators whose numerator this dossier puts its procedure in (for its
    reception month): 766-3.2 an online dossier (channel 2); 766-3.5 a dossier with a non-zero
    fee row, paid online (1 or 2) and synced to the national portal; 766-4.5a a dossier from a
    VNeID-verified account for a procedure meant for citizens."""
    marks = []
    if d.channel == 2:
        marks.append("766-3.2")
    if any(fee != 0 for fee in d.fees) and d.paid_online in (1, 2) and d.synced:
        marks.append("766-3.5")
    if d.vneid and citizen_procedure:
        marks.append("766-4.5a")
    return marks


def procedure_denominators(catalogue: Iterable[Procedure]) -> dict[str, set[str]]:
    """The procedures each per-procedure indicator counts over: 3.2 the online services
    published (MucDo 3 or 4), 3.5 the procedures with a non-zero fee, 4.5a the procedures for
    citizens (DoiTuongThucHien 1)."""
    procs = list(catalogue)
    return {
        "766-3.2": {p.code for p in procs if p.online_level >= 3},
        "766-3.5": {p.code for p in procs if p.fee > 0},
        "766-4.5a": {p.code for p in procs if p.applicant == 1},
    }


def catalogue_indicators(
    catalogue: list[Procedure], pubs: list[Publication], cuts: list[date]
) -> list[tuple[str, str, int, int]]:
    """The catalogue-level 766 indicators, (kpi, period, numerator, denominator) for the month of
    each cut (a month end, or the end of the data for the last month); province-wide only (the
    catalogue is the province's, it has no commune dimension).

    - 766-1.1 publications whose decision (NgayQuyetDinh) came ≥5 working days before the legal
      text took effect (NgayHieuLucVanBan) / publications decided in the month;
    - 766-1.2 publications made public (NgayCongKhai) ≤5 working days after the decision /
      publications whose 5-day deadline falls in the month (and by the end of the data);
    - 766-1.3 procedures whose latest publication made public by the cut lists every content
      element / procedures public at the cut;
    - 766-3.1 procedures offered online (MucDo 3 or 4) / procedures under provincial and commune
      authority (the whole catalogue), the catalogue as it stands.
    """
    out: list[tuple[str, str, int, int]] = []
    for cut in cuts:
        period = f"{cut:%Y-%m}"
        decided = [x for x in pubs if f"{x.decided:%Y-%m}" == period and x.decided <= cut]
        if decided:
            on_time = sum(working_days_between(x.decided, x.effective) >= 5 for x in decided)
            out.append(("766-1.1", period, on_time, len(decided)))
        due = [
            x
            for x in pubs
            if f"{add_working_days(x.decided, 5):%Y-%m}" == period
            and add_working_days(x.decided, 5) <= cut
        ]
        if due:
            public = sum(working_days_between(x.decided, x.made_public) <= 5 for x in due)
            out.append(("766-1.2", period, public, len(due)))
        latest: dict[str, Publication] = {}
        for x in pubs:  # sorted by decision date
            if x.made_public <= cut:
                latest[x.code] = x
        if latest:
            complete = sum(x.complete for x in latest.values())
            out.append(("766-1.3", period, complete, len(latest)))
        online = sum(p.online_level >= 3 for p in catalogue)
        out.append(("766-3.1", period, online, len(catalogue)))
    return out
