"""Health sector of the demo province: XML 130 inbox, EHR registry, telemedicine and booking.

``SECTOR.generate(ctx)`` builds the 165 facilities and the resident pool, writes every facility's
daily XML 130 wrapper files (``health/xml130/inbox``), the EHR registry database and the monthly
telemedicine and booking CSV drops, and adds the ground truth of the health KPIs computed from
what was written:

- ``YT-01``: residents with an EHR created by the month's last day / residents (registry's
  ``commune_population``), by residence commune;
- ``OPS-HEALTH-E-MEDICAL-BOOK`` and ``OPS-HEALTH-REMOTE-BOOKING``: residents whose EHR (created
  by the month's last day) has ``has_e_medical_book`` / ``uses_remote_booking`` set / residents,
  by residence commune (the flags are a snapshot: the registry keeps no date for them, so a
  record counts from the month its EHR was created). No catalogue ids: kpis.md lists them only
  as indicators the province reports;
- ``YT-03``: facilities accepting cashless payment by the month's last day / facilities, by the
  facility's commune;
- ``OPS-HEALTH-EPISODES``: distinct readable XML1 episodes by residence commune and admission
  month (numerator = episodes, denominator = 1, so value = the count); see ``xml130`` for the rule;
- ``OPS-HEALTH-FACILITIES-REPORTING``: facilities with at least one readable XML 130 file dated
  (``NGAYLAP``) in the month / facilities, by the facility's commune;
- ``OPS-HEALTH-TELEMEDICINE-SESSIONS``: telemedicine sessions started in the month, by the spoke
  facility's commune (count: denominator 1);
- ``OPS-HEALTH-BOOKINGS``: distinct booking-app appointments booked in the month, by the booked
  facility's commune (count: denominator 1).

YT-02 (adults using telemedicine platforms) is not computed: the telemedicine platform records
facility-to-facility consultations without patients, so no system here knows which residents use
telemedicine.

Each goes to the commune level (2025 codes, every month), the district level (legacy codes,
months before July 2025) and the province (82, every month).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np

from simulator.context import SimContext
from simulator.frame import NEW_PROVINCE, REORGANISATION
from simulator.health.ehr import write_registry
from simulator.health.facilities import Facility, build_facilities
from simulator.health.people import build_pool
from simulator.health.telemedicine import write_bookings, write_sessions
from simulator.health.xml130 import InboxWriter
from simulator.sector import Service

LEGACY_BEFORE = REORGANISATION.strftime("%Y-%m")


def months(start: date, end: date) -> list[tuple[str, date]]:
    """(yyyy-mm, last day of the month) for every month the run touches."""
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        out.append((f"{year:04d}-{month:02d}", date.fromordinal(nxt.toordinal() - 1)))
        year, month = nxt.year, nxt.month
    return out


def add_truth(
    ctx: SimContext,
    kpi: str,
    period: str,
    rows: Iterable[tuple[str | None, str | None, int, int]],
    count: bool = False,
) -> None:
    """Sum (new commune, old district, numerator, denominator) rows up to the three levels.

    A row without a commune counts only for the province; the district level exists only for
    months before the reorganisation. ``count=True`` marks a count indicator: each output row
    gets denominator 1 (so its value is the count), whatever the input rows carry.
    """
    commune: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    district: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    province = [0, 0]
    for new_code, district_code, num, den in rows:
        province[0] += num
        province[1] += den
        if new_code is not None:
            commune[new_code][0] += num
            commune[new_code][1] += den
        if district_code is not None and period < LEGACY_BEFORE:
            district[district_code][0] += num
            district[district_code][1] += den
    for level, structure, units in (("commune", "2025", commune), ("district", "legacy", district)):
        for code in sorted(units):
            num, den = units[code]
            ctx.truth.add(kpi, period, level, code, structure, num, 1 if count else den)
    ctx.truth.add(kpi, period, "province", NEW_PROVINCE, "2025", province[0],
                  1 if count else province[1])  # fmt: skip


def _by_facility(
    ctx: SimContext, kpi: str, facilities: list[Facility], counts: dict[tuple[str, str], int]
) -> None:
    """A count indicator per month located at each facility's commune."""
    for period, _ in months(ctx.start, ctx.end):
        rows = []
        for f in facilities:
            where = ctx.frame.old(f.old_commune)
            rows.append((where.new_code, where.district_code, counts.get((period, f.code), 0), 0))
        add_truth(ctx, kpi, period, rows, count=True)


def _facility_truth(
    ctx: SimContext, facilities: list[Facility], reporting: set[tuple[str, str]]
) -> None:
    for period, last in months(ctx.start, ctx.end):
        cashless, reported = [], []
        for f in facilities:
            where = ctx.frame.old(f.old_commune)
            cashless.append((where.new_code, where.district_code, int(f.cashless_since <= last), 1))
            reported.append(
                (where.new_code, where.district_code, int((f.code, period) in reporting), 1)
            )
        add_truth(ctx, "YT-03", period, cashless)
        add_truth(ctx, "OPS-HEALTH-FACILITIES-REPORTING", period, reported)


class HealthSector:
    """The health systems of the demo province (see module docstring)."""

    name = "health"

    def generate(self, ctx: SimContext) -> dict[str, int]:
        frame = ctx.frame
        # Start from an empty sector folder: files of an earlier run would break "same seed, same
        # bytes" (the inbox is written file by file, never cleaned by the readers).
        shutil.rmtree(ctx.out / self.name, ignore_errors=True)
        facilities = build_facilities(frame, ctx.seed)
        pool = build_pool(ctx)
        inbox = InboxWriter(ctx, facilities, pool).run()
        by_period: dict[str, list[tuple[str | None, str | None, int, int]]] = defaultdict(list)
        for (period, new_code, district_code), count in sorted(
            inbox.episodes_by.items(), key=lambda kv: tuple(str(k) for k in kv[0])
        ):
            by_period[period].append((new_code, district_code, count, 0))
        for period, _ in months(ctx.start, ctx.end):
            add_truth(ctx, "OPS-HEALTH-EPISODES", period, by_period.get(period, []), count=True)
        _facility_truth(ctx, facilities, inbox.reporting)

        registry = write_registry(ctx, pool, facilities)
        old = frame.old_communes
        new_of = [c.new_code for c in old]
        district_of = [c.district_code for c in old]
        for period, last in months(ctx.start, ctx.end):
            have = registry.created > 0
            have &= registry.created <= last.toordinal()
            for kpi, among in (
                ("YT-01", have),
                ("OPS-HEALTH-E-MEDICAL-BOOK", have & registry.has_book),
                ("OPS-HEALTH-REMOTE-BOOKING", have & registry.uses_booking),
            ):
                numerators = np.bincount(pool.commune[among], minlength=len(old))
                add_truth(
                    ctx,
                    kpi,
                    period,
                    [
                        (new_of[i], district_of[i], int(numerators[i]), int(pool.sizes[i]))
                        for i in range(len(old))
                    ],
                )
        sessions = write_sessions(ctx, facilities)
        _by_facility(ctx, "OPS-HEALTH-TELEMEDICINE-SESSIONS", facilities, sessions)
        bookings = write_bookings(ctx, facilities, pool, registry)
        _by_facility(ctx, "OPS-HEALTH-BOOKINGS", facilities, bookings)
        return {
            "telemedicine_sessions": sum(sessions.values()),
            "booking_appointments": sum(bookings.values()),
            "xml130_files": inbox.files,
            "xml130_episodes": inbox.episodes,
            "xml130_drug_lines": inbox.drug_lines,
            "xml130_service_lines": inbox.service_lines,
            "ehr_persons": registry.counts["persons"],
            "ehr_immunisations": registry.counts["immunisations"],
            "facilities": len(facilities),
        }

    def services(self, sim_dir: Path, port_base: int) -> list[Service]:
        return []


SECTOR = HealthSector()
