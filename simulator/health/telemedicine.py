"""Telemedicine sessions and booking-app appointments: monthly CSV drops (no published schema).

Both systems export one UTF-8 CSV per month (source_formats.md §1.3, the project's own columns):

- ``health/telemedicine/sessions_<yyyymm>.csv``: ``session_id, started_at (yyyy-mm-dd HH:MM),
  hub_facility_code, spoke_facility_code, specialty, duration_minutes`` — remote consultations
  run by the 22 telemedicine facilities (spokes) with their hub: the provincial general hospital
  of their old province, or Chợ Rẫy (HCMC, outside the province, code ``79001`` here) for the
  hospitals themselves;
- ``health/booking/appointments_<yyyymm>.csv``: ``booking_id, booked_at, person_id (the EHR
  registry id), facility_code, appointment_date, channel, status`` — appointments made through
  the remote booking app by residents who use it (registry flag ``uses_remote_booking``).
  The export sometimes repeats a row (``duplicate_record``); a booking counts once.

Prefix stability: each day's rows come from that day's own stream, drawn the same way whatever
the run's end date, so a run to a later end date writes the same rows for the earlier days and
adds rows after them. One field is a snapshot: an appointment after the run's last day is still
``booked``; its outcome (drawn all the same) shows once a later run reaches it.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date

import numpy as np

from simulator.context import SimContext
from simulator.health.ehr import Registry
from simulator.health.facilities import DISTRICT_CENTRE, HOSPITAL, Facility
from simulator.health.people import PersonPool, iso_dates

TELEMEDICINE = "telemedicine"
BOOKING = "booking_app"
EXTERNAL_HUB = "79001"  # Chợ Rẫy hospital (Hồ Chí Minh City), hub of the provincial hospitals
SESSIONS_PER_DAY = 5.0  # per telemedicine facility, weekdays, full scale
BOOKINGS_PER_YEAR = 1.5  # per resident using the app
SPECIALTIES = ["Nội khoa", "Tim mạch", "Nhi khoa", "Sản khoa", "Chấn thương chỉnh hình",
               "Thần kinh", "Ung bướu", "Hồi sức cấp cứu"]  # fmt: skip
CHANNELS = ["app", "web", "zalo"]
# Outcome of an appointment once its day has passed, with cumulative probabilities.
OUTCOMES = ["completed", "cancelled", "no_show"]
OUTCOME_CDF = [0.85, 0.95, 1.0]
SESSION_COLUMNS = ["session_id", "started_at", "hub_facility_code", "spoke_facility_code",
                   "specialty", "duration_minutes"]  # fmt: skip
BOOKING_COLUMNS = ["booking_id", "booked_at", "person_id", "facility_code", "appointment_date",
                   "channel", "status"]  # fmt: skip


def _month_files(ctx: SimContext, folder: str) -> dict[str, list[date]]:
    """The run's days grouped by yyyymm (one CSV each); creates the drop folder."""
    months: dict[str, list[date]] = defaultdict(list)
    for day in ctx.days():
        months[f"{day:%Y%m}"].append(day)
    (ctx.out / "health" / folder).mkdir(parents=True, exist_ok=True)
    return months


def write_sessions(ctx: SimContext, facilities: list[Facility]) -> dict[tuple[str, str], int]:
    """Write the monthly session files; returns sessions per (yyyy-mm, spoke facility code)."""
    hubs = {
        province: next(f.code for f in facilities if f.kind == HOSPITAL and f.code[:2] == province)
        for province in ("87", "82")
    }
    spokes = [f for f in facilities if f.telemedicine]
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for month, days in sorted(_month_files(ctx, "telemedicine").items()):
        path = ctx.out / "health" / "telemedicine" / f"sessions_{month}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            out = csv.writer(handle, lineterminator="\n")
            out.writerow(SESSION_COLUMNS)
            for day in days:
                if day.weekday() >= 5:
                    continue  # consultations are scheduled on working days
                rng = ctx.rng("health", TELEMEDICINE, day.isoformat())
                for spoke in spokes:
                    hub = EXTERNAL_HUB if spoke.kind == HOSPITAL else hubs[spoke.code[:2]]
                    n = int(rng.poisson(SESSIONS_PER_DAY * ctx.scale))
                    for k in range(1, n + 1):
                        minute = 7 * 60 + int(rng.integers(0, 600))
                        out.writerow(
                            [
                                f"TM{spoke.code}{day:%y%m%d}{k:03d}",
                                f"{day.isoformat()} {minute // 60:02d}:{minute % 60:02d}",
                                hub,
                                spoke.code,
                                SPECIALTIES[int(rng.integers(len(SPECIALTIES)))],
                                int(rng.integers(10, 61)),
                            ]
                        )
                    counts[(f"{day:%Y-%m}", spoke.code)] += n
    return dict(counts)


def write_bookings(
    ctx: SimContext, facilities: list[Facility], pool: PersonPool, registry: Registry
) -> dict[tuple[str, str], int]:
    """Write the monthly booking files; returns distinct bookings per (yyyy-mm, facility code)."""
    frame = ctx.frame
    # App users whatever the end date (a record opened after a day cannot book on it, below):
    # the daily volume comes from their number, which must not grow with the end date.
    users = np.flatnonzero((registry.opened > 0) & registry.uses_booking)
    station = {f.old_commune: f.code for f in facilities if f.kind == "commune_station"}
    centre = {c: f.code for f in facilities if f.kind == DISTRICT_CENTRE for c in f.catchment}
    hospitals = np.array([f.code for f in facilities if f.kind == HOSPITAL])
    homes = [c.code for c in frame.old_communes]
    # Per old commune: its station (or "" when it has none) and its district health centre.
    station_of = np.array([station.get(code, "") for code in homes])
    centre_of = np.array([centre[code] for code in homes])
    end = ctx.end.toordinal()
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for month, days in sorted(_month_files(ctx, "booking").items()):
        path = ctx.out / "health" / "booking" / f"appointments_{month}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(BOOKING_COLUMNS) + "\n")
            for day in days:
                # The day's bookings drawn as arrays from the day's own stream.
                rng = ctx.rng("health", BOOKING, day.isoformat())
                n = int(rng.poisson(len(users) * BOOKINGS_PER_YEAR / 365)) if len(users) else 0
                if n == 0:
                    continue
                person = users[(rng.random(n) * len(users)).astype(np.int64)]
                roll, pick, outcome, dup = rng.random((4, n))
                ahead = rng.integers(1, 15, n)
                minute = 6 * 60 + (rng.random(n) * 16 * 60).astype(np.int64)
                channel = (rng.random(n) * len(CHANNELS)).astype(np.int64)
                home = pool.commune[person]
                own = (roll < 0.5) & (station_of[home] != "")
                facility = np.where(
                    own,
                    station_of[home],
                    np.where(
                        roll < 0.85,
                        centre_of[home],
                        hospitals[(pick * len(hospitals)).astype(np.int64)],
                    ),
                )
                appointment = day.toordinal() + ahead
                status = np.where(
                    appointment <= end,
                    np.array(OUTCOMES)[np.searchsorted(OUTCOME_CDF, outcome)],
                    "booked",
                )
                # The app needs the EHR account first: bookings of later accounts are dropped
                # (their numbers stay unused).
                kept = np.flatnonzero(registry.opened[person] <= day.toordinal())
                stamp, iso = f"{day:%Y%m%d}", day.isoformat()
                dates = iso_dates(appointment[kept])
                lines = []
                for k, who, place, when, state, m, c, again in zip(
                    (kept + 1).tolist(),
                    person[kept].tolist(),
                    facility[kept].tolist(),
                    dates,
                    status[kept].tolist(),
                    minute[kept].tolist(),
                    channel[kept].tolist(),
                    (dup[kept] < ctx.defect_rate).tolist(),
                    strict=True,
                ):
                    booking = f"DL{stamp}{k:06d}"
                    line = (
                        f"{booking},{iso} {m // 60:02d}:{m % 60:02d},HSSK{who:09d},{place},"
                        f"{when},{CHANNELS[c]},{state}\n"
                    )
                    lines.append(line)
                    if again:
                        lines.append(line)  # the export repeated the row
                        ctx.defects.log(BOOKING, booking, "duplicate_record", "row repeated", day)
                    counts[(f"{day:%Y-%m}", place)] += 1
                handle.write("".join(lines))
    return dict(counts)
