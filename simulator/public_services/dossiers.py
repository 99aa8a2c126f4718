"""The one-stop-shop dossier system: dossiers with their whole life cycle, day by day.

For each submission day a Poisson number of dossiers is drawn (about one million per
province-year at scale 1, weekdays busier, weekends online only). Each dossier gets a procedure,
an applicant commune (by population), a channel, a planned life cycle (received → in process →
supplement requested / financial obligation → processed → result returned, or withdrawn /
stopped / refused at reception) and is then cut at the end of the data: what had not happened by
then is not written, so the status is the one a snapshot would show. Rows stream to the
:class:`~simulator.public_services.store.Store`; each written dossier's facts go to the KPI
accumulator. Calibration (the simulator's assumptions; province_facts.md gives no rates): online
share rising 45% → 70% over 2024–2025, about 4% of dossiers late (10% for land), 9% with a
supplement request, ~85% digitised, VNeID use by online citizens rising 30% → 85%.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from simulator.context import SimContext
from simulator.frame import REORGANISATION
from simulator.public_services import people
from simulator.public_services.catalogue import Procedure
from simulator.public_services.draws import DRAWS, Draws, cumulative
from simulator.public_services.kpi import (
    SYNC_STEP,
    DossierFacts,
    PetitionFacts,
    add_working_days,
    next_working_day,
)
from simulator.public_services.store import Store
from simulator.rng import stream

SOURCE = "one_stop"
PER_YEAR = 1_000_000  # dossiers per province-year at scale 1
WEEKEND_FACTOR = 0.2  # weekend submissions relative to a weekday (online only)
FMT = "%Y%m%d%H%M%S"
APPLICANT_CUM = cumulative([0.96, 0.01, 0.03])  # LoaiDoiTuong 1, 3, 4 of non-business dossiers
SUPPLEMENT_CUM = cumulative([0.91, 0.08, 0.01])  # 0, 1, 2 supplement requests
PAYMENT_CUM = cumulative([0.4, 0.6])  # paid online via the national portal / provincial gateway
OUTCOME_CUM = cumulative([0.85, 0.08, 0.07])  # petition handled / refused / supplement asked


def ts(moment: datetime | None) -> str | None:
    """``yyyyMMddHHmmss`` (FMT), sliced from isoformat: a third faster than strftime."""
    if moment is None:
        return None
    i = moment.isoformat()
    return i[0:4] + i[5:7] + i[8:10] + i[11:13] + i[14:16] + i[17:19]


def online_share(day: date) -> float:
    months = (day.year - 2024) * 12 + day.month - 1
    return float(np.clip(0.45 + 0.25 * months / 23, 0.45, 0.70))


def vneid_share(day: date) -> float:
    months = (day.year - 2024) * 12 + day.month - 1
    return float(np.clip(0.30 + 0.55 * months / 23, 0.30, 0.85))


def outage_window(seed: int, year: int) -> tuple[date, date]:
    """The year's window (first and last day, 2–5 days) when the one-stop system's sync to the
    IOC is down; drawn from its own stream, so it never depends on the run's dates."""
    rng = stream(seed, "public_services", "ioc-sync-outage", year)
    first = date(year, 1, 1) + timedelta(days=int(rng.integers(0, 358)))
    return first, first + timedelta(days=int(rng.integers(1, 5)))


def log_outages(ctx: SimContext) -> None:
    """``source_unavailable`` for each outage window that starts by the end of the data."""
    for year in range(ctx.start.year, ctx.end.year + 1):
        first, last = outage_window(ctx.seed, year)
        if first <= ctx.end and last >= ctx.start:
            ctx.defects.log(
                SOURCE,
                f"ioc-sync:{first}..{last}",
                "source_unavailable",
                f"one-stop sync to the IOC down {first} to {last}; rows changed in the window"
                f" arrive from {last + timedelta(days=1)} 06:00",
                first,
            )


NEVER_SYNCED = 0.015  # share of received dossiers the national portal never receives
LATE_SYNCED = 0.03  # share that reaches it 1–7 days after reception


@dataclass
class Event:
    at: datetime
    status: int
    content: str


@dataclass
class Written:
    """A dossier as written: its key, admin unit (old commune) and, when it counts, its facts."""

    key: str
    old_commune: str
    facts: DossierFacts | None  # None: not received (status 1, 3) or quarantined
    petitions: list[tuple[str, PetitionFacts]] = field(default_factory=list)  # (old commune, …)


class DossierWriter:
    """Writes one day's dossiers (and the petitions they draw) into the store."""

    def __init__(self, ctx: SimContext, store: Store, catalogue: list[Procedure]) -> None:
        self.ctx = ctx
        self.store = store
        self.catalogue = catalogue
        self.cutoff = datetime.combine(ctx.end + timedelta(days=1), time())
        weights = np.array([p.weight for p in catalogue])
        self.proc_cum = cumulative(weights / weights.sum())
        online_ok = np.array([p.online_level >= 3 for p in catalogue], dtype=float)
        self.proc_cum_online = cumulative(weights * online_ok / (weights * online_ok).sum())
        pop = ctx.frame.population.astype(float)
        self.commune_cum = cumulative(pop / pop.sum())
        self.communes = ctx.frame.old_communes
        self.next_id = 1
        self.day_online = 0.0  # online_share / vneid_share of the day being written
        self.day_vneid = 0.0
        self.staff: dict[str, list[tuple[str, str]]] = {}
        self.outages = [
            w
            for year in range(ctx.start.year, ctx.end.year + 1)
            for w in [outage_window(ctx.seed, year)]
            if w[0] <= ctx.end and w[1] >= ctx.start
        ]
        # Full-size weekday expectation so that a year of weekdays + weekends gives PER_YEAR.
        self.weekday_mean = PER_YEAR / (365.25 / 7 * (5 + 2 * WEEKEND_FACTOR))

    def _staff(self, rng: Draws, unit: str) -> tuple[str, str]:
        """One of the unit's five officials (a unit's staff is drawn once, from its own stream)."""
        if unit not in self.staff:
            unit_rng = self.ctx.rng("public_services", "staff", unit)
            draws = Draws(unit_rng.random(DRAWS).tolist(), [self.ctx.seed, 0, 0])
            self.staff[unit] = [people.official(draws) for _ in range(5)]
        return self.staff[unit][int(rng.integers(5))]

    def day(self, day: date, sink: Callable[[Written], None]) -> None:
        rng = self.ctx.rng("public_services", "dossiers", day.isoformat())
        weekend = day.weekday() >= 5
        mean = self.weekday_mean * self.ctx.scale * (WEEKEND_FACTOR if weekend else 1.0)
        count = int(rng.poisson(mean))
        # One row of uniforms per dossier, drawn at once (see draws.py).
        block = rng.random((count, DRAWS)).tolist()
        self.day_online = online_share(day)
        self.day_vneid = vneid_share(day)
        for seq in range(count):
            draws = Draws(block[seq], [self.ctx.seed, day.toordinal(), seq])
            sink(self._dossier(draws, day, seq, weekend))

    def _dossier(self, rng: Draws, day: date, seq: int, weekend: bool) -> Written:
        ctx = self.ctx
        p_index = rng.index(self.proc_cum_online if weekend else self.proc_cum)
        proc = self.catalogue[p_index]
        commune = self.communes[rng.index(self.commune_cum)]
        key = f"{commune.province_code}.{day:%y%m%d}.{seq + 1:06d}"
        # Channel: weekends online only; information-only procedures cannot be online.
        u = rng.random()
        if weekend or (proc.online_level >= 3 and u < self.day_online):
            channel = 2
        else:
            channel = 3 if rng.random() < 0.03 else 1
        # Business procedures have business applicants; the rest mostly citizens.
        applicant = 2 if proc.applicant == 2 else rng.pick((1, 3, 4), APPLICANT_CUM)
        if applicant == 1:
            holder, doc_id, phone = people.person(rng, "0" + commune.province_code)
        else:
            holder, doc_id, phone = people.company(rng)
        vneid = applicant == 1 and channel == 2 and rng.random() < self.day_vneid

        # Submission and reception times.
        if channel == 2:
            submitted = datetime.combine(day, time()) + timedelta(
                minutes=int(rng.integers(0, 1440))
            )
            start = next_working_day(day + timedelta(days=int(submitted.hour >= 16)))
            received = datetime.combine(start, time(7, 30)) + timedelta(
                minutes=int(rng.integers(0, 180))
            )
            received = max(received, submitted + timedelta(minutes=5))
        else:
            submitted = datetime.combine(day, time(7, 30)) + timedelta(
                minutes=int(rng.integers(0, 540))
            )
            received = submitted + timedelta(minutes=int(rng.integers(2, 20)))
            start = day if submitted.hour < 16 else add_working_days(day, 1)
        due = datetime.combine(add_working_days(start, proc.limit_days), time(17, 0))

        events: list[Event] = []
        if channel == 2:
            events.append(Event(submitted, 1, "Nộp hồ sơ trực tuyến"))
        refused = rng.random() < 0.015
        supplements: list[tuple[datetime, datetime | None]] = []
        end: datetime | None = None
        returned: datetime | None = None
        if refused:
            events.append(Event(received, 3, "Từ chối tiếp nhận: hồ sơ không hợp lệ"))
        else:
            events.append(Event(received, 2, "Tiếp nhận hồ sơ"))
            # Sent to the national portal minutes after reception (766-1.4); ~1.5% never reach
            # it and ~3% only 1–7 days later (a queue stuck, a retry), so the portal files them
            # in the month they arrived. One draw decides both, so the draws that follow (and
            # every generated prefix) are those of a province without late syncs. The step keeps
            # its place in the log after reception whatever its time.
            sync_at = received + timedelta(minutes=int(rng.integers(1, 11)))
            sync_draw = rng.random()
            if sync_draw >= NEVER_SYNCED:
                if sync_draw < NEVER_SYNCED + LATE_SYNCED:
                    late_days = 1 + int((sync_draw - NEVER_SYNCED) / LATE_SYNCED * 7)
                    sync_at += timedelta(days=late_days)
                events.append(Event(sync_at, 2, SYNC_STEP))
            events.append(Event(received + timedelta(minutes=30), 4, "Chuyển xử lý"))
            fate = rng.random()
            late = rng.random() < (0.10 if proc.field_code == "DD" else 0.04)
            work = (
                proc.limit_days + int(rng.integers(1, 8))
                if late
                else int(rng.integers(0, proc.limit_days + 1))
            )
            n_supp = rng.pick((0, 1, 2), SUPPLEMENT_CUM) if proc.limit_days >= 2 else 0
            pause = 0
            stuck = False
            for i in range(n_supp):
                asked = datetime.combine(
                    add_working_days(
                        start, 1 + i + int(rng.integers(0, max(1, proc.limit_days // 2)))
                    ),
                    time(9, 0),
                ) + timedelta(days=pause)
                events.append(Event(asked, 5, f"Yêu cầu bổ sung hồ sơ lần {i + 1}"))
                if rng.random() < 0.06:
                    supplements.append((asked, None))
                    stuck = True
                    break
                wait = int(rng.integers(1, 11))
                answered = asked + timedelta(days=wait, hours=1)
                supplements.append((asked, answered))
                events.append(Event(answered, 4, "Công dân đã bổ sung hồ sơ"))
                pause += wait
            finish_day = add_working_days(start, work) + timedelta(days=pause)
            finish = datetime.combine(finish_day, time(8, 0)) + timedelta(
                minutes=int(rng.integers(0, 540))
            )
            finish = max(finish, (events[-1].at + timedelta(hours=1)))
            if stuck:
                pass  # waits for the applicant to the end of the data (status 5)
            elif fate < 0.01:
                end = received + (finish - received) / 2
                events.append(Event(end, 7, "Công dân rút hồ sơ"))
            elif fate < 0.015:
                events.append(Event(received + (finish - received) / 2, 8, "Dừng xử lý"))
            else:
                if (
                    proc.field_code == "DD"
                    and proc.fee > 0
                    and finish - received > timedelta(days=4)
                ):
                    events.append(
                        Event(finish - timedelta(days=3), 6, "Thông báo nghĩa vụ tài chính")
                    )
                    events.append(
                        Event(finish - timedelta(days=1), 4, "Đã thực hiện nghĩa vụ tài chính")
                    )
                end = finish
                events.append(Event(end, 9, "Đã xử lý xong"))
                if rng.random() < 0.85:
                    returned = end + timedelta(days=int(rng.integers(0, 4)), minutes=30)
                    events.append(Event(returned, 10, "Đã trả kết quả"))

        # Cut at the end of the data: the snapshot shows only what has happened. Every draw
        # below is made whatever the cut, so a later end only advances this dossier.
        planned = events
        events = [e for e in events if e.at < self.cutoff]
        status = events[-1].status
        kept = {e.status for e in events}
        will_receive = any(e.status == 2 for e in planned)
        received_w = received if 2 in kept else None
        end_w = end if end is not None and end < self.cutoff else None
        returned_w = returned if returned is not None and returned < self.cutoff else None
        supplements = [
            (a, r if r is not None and r < self.cutoff else None)
            for a, r in supplements
            if a < self.cutoff
        ]
        result_rows = status in (9, 10) and proc.has_result

        # Attachments, fees, payment.
        n_att = int(rng.integers(1, 5))
        p_digit = 0.97 if channel == 2 else 0.85
        attachments = [
            (bool(rng.random() < p_digit), bool(rng.random() < 0.12), bool(rng.random() < 0.08))
            for _ in range(n_att)
        ]
        fees: list[tuple[str, int]] = []
        if proc.fee > 0:
            exempt = rng.random() < 0.10
            fees.append(("Lệ phí", 0 if exempt else proc.fee))
            if rng.random() < 0.2:
                fees.append(("Phí thẩm định", 0 if exempt else proc.fee // 2))
        paid = 0
        if any(g for _, g in fees):
            if channel == 2 and rng.random() < 0.6:
                paid = rng.pick((1, 2), PAYMENT_CUM)
            elif channel != 2 and rng.random() < 0.05:
                paid = 2
        electronic = bool(rng.random() < 0.9)

        # Codes as the system sends them on the day it records the dossier (re-coded at
        # reception, so a dossier submitted before 1 July and received after changes codes).
        code_day = (received_w or submitted).date()
        planned_code_day = (received if will_receive else submitted).date()
        province, district, commune_code = ctx.frame.codes_on(commune.code, code_day)
        written_at = max(e.at for e in events)
        abstract = f"{proc.name} - {holder}"
        unit = f"UBX-{commune_code}" if proc.level == "xa" else f"SO-{proc.field_code}"

        # Defects, at ctx.defect_rate among dossiers that were received.
        quarantined = False
        duplicate = False
        planned_duplicate = False
        # Drawn for every dossier, so the day's stream advances the same whatever the outcome.
        # The kind is chosen from the planned life cycle, not the cut one, so a later end of the
        # data never changes it; it shows (and is logged) once the field it spoils is written.
        defect_rng = rng
        if defect_rng.random() < ctx.defect_rate and will_receive:
            kinds = ["duplicate_record", "nfd_text", "future_date", "late_arriving"]
            if any(g for _, g in fees):
                kinds.append("negative_amount")
            if end is not None:
                kinds.append("impossible_date")
            if planned_code_day >= REORGANISATION:
                kinds.append("outdated_admin_code")
            kind = kinds[int(defect_rng.integers(len(kinds)))]
            detail = ""
            shows = True
            log_day = code_day
            if kind == "duplicate_record":
                planned_duplicate = True
                # The copy is inserted at reception.
                shows = duplicate = received_w is not None
                detail = "dossier row inserted twice"
            elif kind == "nfd_text":
                # A name without diacritics reads the same in NFD: nothing to log then.
                shows = unicodedata.normalize("NFD", holder) != holder
                holder = unicodedata.normalize("NFD", holder)
                abstract = unicodedata.normalize("NFD", abstract)
                detail = "ChuHoSo, TrichYeuHoSo in NFD"
            elif kind == "future_date":
                # A mistyped year: ten years ahead, so it stays in the future however far the
                # data is advanced.
                typo = received + timedelta(days=3653 + int(defect_rng.integers(30, 400)))
                shows = received_w is not None
                if shows:
                    received_w = typo
                    quarantined = True
                detail = f"NgayTiepNhan={ts(typo)}"
            elif kind == "late_arriving":
                lag = timedelta(days=int(defect_rng.integers(5, 41)))
                # Not yet arrived at the end of the data: the snapshot shows it as arriving then.
                written_at = min(written_at + lag, self.cutoff - timedelta(seconds=1))
                last = max(e.at for e in events)
                detail = f"inserted {written_at:%Y-%m-%d}, last event {last:%Y-%m-%d}"
            elif kind == "negative_amount":
                fees[0] = (fees[0][0], -fees[0][1])
                quarantined = True
                detail = f"Gia={fees[0][1]}"
            elif kind == "impossible_date":
                assert end is not None
                wrong_end = received - timedelta(days=int(defect_rng.integers(1, 30)))
                shows = end_w is not None and received_w is not None
                if shows:
                    end_w = wrong_end
                    quarantined = True
                    log_day = end.date()  # the day the wrong value is written
                detail = f"NgayKetThucXuLy={ts(wrong_end)} < NgayTiepNhan={ts(received)}"
            else:  # outdated_admin_code: the system still sends the pre-2025 codes
                shows = code_day >= REORGANISATION
                if shows:
                    province, district, commune_code = (
                        commune.province_code,
                        commune.district_code,
                        commune.code,
                    )
                detail = f"MaXa={commune.code} (new {commune.new_code})"
            if shows:
                ctx.defects.log(SOURCE, key, kind, detail, log_day)
            late_logged = shows and kind == "late_arriving"
        else:
            late_logged = False

        # The sync to the IOC is down for a few days a year: a row whose last change falls in
        # the window reaches the IOC (updated_at) only when the sync catches up after it.
        for first, last_day in self.outages:
            if first <= written_at.date() <= last_day:
                catch_up = datetime.combine(last_day + timedelta(days=1), time(6)) + timedelta(
                    minutes=seq % 240
                )
                arrived = min(catch_up, self.cutoff - timedelta(seconds=1))
                if arrived > written_at:
                    if not late_logged:
                        last = max(e.at for e in events)
                        ctx.defects.log(
                            SOURCE,
                            key,
                            "late_arriving",
                            f"inserted {arrived:%Y-%m-%d}, last event {last:%Y-%m-%d}"
                            f" (sync to the IOC down {first}..{last_day})",
                            code_day,
                        )
                    written_at = arrived

        row = (
            self.next_id,
            key,
            proc.code,
            proc.name,
            proc.field_code,
            proc.field_name,
            channel,
            holder,
            doc_id,
            applicant,
            phone,
            abstract,
            ts(submitted),
            ts(received_w),
            ts(due) if received_w is not None else None,
            ts(end_w) if status in (7, 9, 10) else None,
            ts(returned_w),
            ts(received) if status == 3 else None,
            status,
            unit,
            2 if channel == 2 else 1,
            int(all(a[0] for a in attachments)),
            int(vneid),
            paid,
            province,
            district,
            commune_code,
            written_at.isoformat(" ")[:19],
        )
        self.store.add("HoSo", row)
        self.next_id += 1
        if planned_duplicate:
            # The copy's id is kept even before it is inserted, so ids never depend on the end.
            if duplicate:
                self.store.add("HoSo", (self.next_id, *row[1:]))
            self.next_id += 1
        for step, e in enumerate(planned, start=1):
            # One official per planned step, drawn whether or not the step has happened yet.
            name, title = self._staff(rng, commune.code if proc.level == "xa" else proc.field_code)
            if e.at >= self.cutoff:
                continue
            dept = (
                f"Bộ phận Một cửa {commune.name}"
                if proc.level == "xa"
                else f"Sở - {proc.field_name}"
            )
            self.store.add(
                "NhatKyXuLy",
                (
                    key,
                    step,
                    name,
                    title,
                    ts(e.at),
                    dept,
                    e.content,
                    e.status,
                    ts(received) if 2 in kept else None,
                    ts(due) if 2 in kept else None,
                ),
            )
        for i, (digit, reuse, store_flag) in enumerate(attachments, start=1):
            self.store.add(
                "TaiLieuNop",
                (key, i, f"thanh_phan_{i}.pdf", int(digit), int(reuse), int(store_flag)),
            )
        for i, (fee_name, price) in enumerate(fees, start=1):
            self.store.add("DanhSachLePhi", (key, i, fee_name, price, int(paid > 0)))
        for i, (req, resp) in enumerate(supplements, start=1):
            self.store.add("YeuCauBoSung", (key, i, ts(req), "Bổ sung giấy tờ còn thiếu", ts(resp)))
        if result_rows and end_w is not None:
            self.store.add(
                "KetQuaXuLy",
                (
                    key,
                    f"{self.next_id}/QĐ-{proc.field_code}",
                    ts(end_w),
                    int(electronic),
                    f"ketqua/{key}.pdf" if electronic else None,
                ),
            )

        written = Written(key, commune.code, None)
        if will_receive:
            # Drawn from the planned reception, written only once they have happened.
            written.petitions = self._petitions(rng, key, commune.code, received)
        if received_w is not None and status not in (1, 3) and not quarantined:
            written.facts = DossierFacts(
                received=received_w.date(),
                status=status,
                due=due.date(),
                end=end_w.date() if end_w is not None and status in (7, 9, 10) else None,
                supplements=tuple((a.date(), r.date() if r else None) for a, r in supplements),
                channel=channel,
                applicant=applicant,
                vneid=vneid,
                fee_bearing=proc.fee > 0,
                fees=tuple(g for _, g in fees),
                paid_online=paid,
                attachments=tuple(attachments),
                result_required=result_rows,
                result_electronic=result_rows and end_w is not None and electronic,
                complained=any(link for link, _ in written.petitions if link),
                procedure=proc.code,
                synced=any(e.content == SYNC_STEP for e in events),
                synced_on=next((e.at.date() for e in events if e.content == SYNC_STEP), None),
                result_procedure=proc.has_result,
            )
        return written

    def _petitions(
        self, rng: Draws, key: str, old_code: str, received: datetime
    ) -> list[tuple[str, PetitionFacts]]:
        """Petitions (phản ánh kiến nghị) this dossier draws: ~0.4% about it, ~0.3% general ones
        from its commune. Returns (linked MaHoSo or "", facts) of the rows written."""
        out: list[tuple[str, PetitionFacts]] = []
        for link, prob in ((key, 0.004), ("", 0.003)):
            if rng.random() >= prob:
                continue
            got = datetime.combine(received.date(), time(8)) + timedelta(
                days=int(rng.integers(1, 31)), minutes=int(rng.integers(0, 540))
            )
            outcome = rng.pick((1, 2, 3), OUTCOME_CUM)
            limit = {1: 15, 2: 2, 3: 5}[outcome]
            wdays = (
                int(rng.integers(1, limit + 1))
                if rng.random() < 0.9
                else limit + int(rng.integers(1, 11))
            )
            done: datetime | None = datetime.combine(add_working_days(got.date(), wdays), time(15))
            rating = bool(rng.random() >= 0.1)
            repeated = bool(rng.random() < 0.05)
            if got >= self.cutoff:
                continue
            if done is not None and done >= self.cutoff:
                done = None
            satisfied = None if done is None else rating
            pkey = f"PA-{key}-{'D' if link else 'G'}"
            province, district, commune_code = self.ctx.frame.codes_on(old_code, got.date())
            self.store.add(
                "PhanAnhKienNghi",
                (
                    pkey,
                    link or None,
                    ts(got),
                    outcome,
                    ts(done),
                    None if satisfied is None else int(satisfied),
                    int(repeated),
                    province,
                    district,
                    commune_code,
                ),
            )
            out.append(
                (
                    link,
                    PetitionFacts(
                        got.date(), outcome, done.date() if done else None, satisfied, repeated
                    ),
                )
            )
        return out
