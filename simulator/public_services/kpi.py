"""The Decision 766 formulas (kpis.md §1) applied to one dossier or petition as it was written.

Each function returns ``(kpi_id, numerator, denominator)`` contributions; summing them over the
dossiers received in a month (and a commune) gives the month's ground truth, so every level of
the truth adds up exactly. Dates are compared by calendar day, the precision of the appointment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

FINISHED = (7, 9, 10)
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
    NgayKetThucXuLy minus the days paused for supplements (never below zero)."""
    assert d.end is not None
    return max(0, (d.end - d.received).days - paused_days(d.supplements, d.end))


def dossier_contributions(d: DossierFacts) -> list[tuple[str, int, int]]:
    """Contributions of one dossier to the dossier-level 766 indicators of its reception month.

    - 766-2.1 on-time / received; 766-2.2 Σ processing days / completed (9, 10);
    - 766-3.3 channel 2 / received (no sync-rate factor: the 766 formula multiplies by the share
      of dossiers synced to the national portal, which is a property of the sync, not of the data);
    - 766-3.6 paid online (DuocThanhToanTrucTuyen 1 or 2) / dossiers of fee-bearing procedures
      with at least one non-zero fee row;
    - 766-4.2 dossiers whose every attachment is digitised (at least one attachment) and, when a
      result document is due (CoKetQua and status 9/10), that have an electronic one / received;
    - 766-4.1 dossiers with an electronic result (KetQuaXuLy.LaBanDienTu = 1) / dossiers of
      procedures returning a result document (CoKetQua) that reached status 9 or 10;
    - 766-4.3 dossiers with ≥1 attachment re-used / received;
    - 766-4.4 dossiers with ≥1 attachment taken from the national data store
      (DuocLayTuKhoDMQG; results pushed to the store are not modelled) / received;
    - 766-4.5b dossiers from a VNeID-verified account / citizen dossiers (LoaiDoiTuong 1);
    - 766-5.4 received − late (766-2.1) − dossiers with a complaint / received (can be negative
      for a tiny cell where one dossier is both late and complained about: the official formula).
    """
    out: list[tuple[str, int, int]] = []
    ok = on_time(d)
    out.append(("766-2.1", int(ok), 1))
    if d.status in COMPLETED and d.end is not None:
        out.append(("766-2.2", processing_days(d), 1))
    out.append(("766-3.3", int(d.channel == 2), 1))
    if d.fee_bearing and any(fee != 0 for fee in d.fees):
        out.append(("766-3.6", int(d.paid_online in (1, 2)), 1))
    digitised = bool(d.attachments) and all(s for s, _, _ in d.attachments)
    if d.result_required:
        digitised = digitised and d.result_electronic
    out.append(("766-4.2", int(digitised), 1))
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
