"""The electronic health record registry (hồ sơ sức khỏe điện tử, Decision 831/QĐ-BYT form).

No machine schema of the national platform is published, so this is the project's own, kept
small (source_formats.md §1.2). Database ``sim_ehr_registry`` (SQLite fallback
``health/ehr_registry.sqlite``), a snapshot as of the run's last day:

- ``persons``: one row per resident who has an EHR — ``person_id`` (registry id), personal fields
  (``citizen_id``, ``full_name``, ``sex``, ``birth_date``), residence as old commune / district /
  province codes and new commune code, ``created_on``, ``last_updated``, ``has_e_medical_book``,
  ``uses_remote_booking``; a record is updated every ``gap`` days after its creation (a gap of
  its own), ``last_updated`` is the last of those updates by the run's last day;
- ``immunisations``: the immunisation part of the record for children born since 2019
  (``person_id``, ``vaccine_code``, ``dose``, ``given_on``, ``facility_code``);
- ``commune_population``: residents per old commune as the registry counts them (the YT-01
  denominator);
- ``facilities``: the 165 examination and treatment facilities (MACSKCB code, type, location,
  ``cashless_since``, ``telemedicine``).

Coverage is calibrated to the province's reports: 80% early 2023 → 87% early 2025 province-wide,
Cao Lãnh city 91%, Sa Đéc 94.89%; electronic medical book 66% and remote booking > 40% of Cao Lãnh
city's residents.

Prefix stability: every draw is made for the whole person pool (or every child of it), never for
the persons who have a record by the run's last day, so a run to a later end date keeps each
earlier record as it was except ``last_updated``, which can only move to a day after the earlier
end, and adds the records and immunisations of the days in between.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np

from simulator.context import SimContext
from simulator.health.db import Database
from simulator.health.facilities import Facility
from simulator.health.people import PersonPool, iso_dates

SOURCE = "ehr_registry"
BATCH = 50_000
# EHR coverage early 2025 by old district code; the rest of the province sits a little under
# the 87% province figure because the two cities pull the average up.
COVERAGE_2025 = {"866": 0.91, "867": 0.9489}
COVERAGE_OTHERS = 0.866
GAIN_2023_2025 = 0.07  # 80% → 87%
GAIN_2025 = 0.025  # growth during 2025
E_BOOK = {"866": 0.66, "867": 0.62}  # share of residents with an electronic medical book
E_BOOK_OTHERS = 0.45
BOOKING = {"866": 0.42, "867": 0.41}  # share using the remote booking app
BOOKING_OTHERS = 0.22
# Expanded-programme schedule: (vaccine code, name, dose, age in days).
SCHEDULE = [
    ("BCG", "Vắc xin lao", 1, 0),
    ("VGB", "Viêm gan B sơ sinh", 1, 0),
    ("DPT-VGB-Hib", "Bạch hầu-Ho gà-Uốn ván-Viêm gan B-Hib", 1, 60),
    ("OPV", "Bại liệt uống", 1, 60),
    ("DPT-VGB-Hib", "Bạch hầu-Ho gà-Uốn ván-Viêm gan B-Hib", 2, 90),
    ("OPV", "Bại liệt uống", 2, 90),
    ("DPT-VGB-Hib", "Bạch hầu-Ho gà-Uốn ván-Viêm gan B-Hib", 3, 120),
    ("SOI", "Sởi", 1, 270),
    ("VNNB", "Viêm não Nhật Bản", 1, 365),
    ("MR", "Sởi-Rubella", 1, 540),
]
IMMUNISATION_SINCE = date(2019, 1, 1)
UPDATE_GAP = (30, 400)  # days between two updates of a record (uniform, per person)

PERSON_COLUMNS = [
    ("person_id", "TEXT NOT NULL"),
    ("citizen_id", "TEXT"),
    ("full_name", "TEXT"),
    ("sex", "INTEGER"),
    ("birth_date", "DATE"),
    ("residence_old_province", "TEXT"),
    ("residence_old_district", "TEXT"),
    ("residence_old_commune", "TEXT"),
    ("residence_new_commune", "TEXT"),
    ("created_on", "DATE NOT NULL"),
    ("last_updated", "DATE NOT NULL"),
    ("has_e_medical_book", "BOOLEAN NOT NULL"),
    ("uses_remote_booking", "BOOLEAN NOT NULL"),
]
IMMUNISATION_COLUMNS = [
    ("person_id", "TEXT NOT NULL"),
    ("vaccine_code", "TEXT NOT NULL"),
    ("vaccine_name", "TEXT"),
    ("dose", "INTEGER NOT NULL"),
    ("given_on", "DATE NOT NULL"),
    ("facility_code", "TEXT"),
]
POPULATION_COLUMNS = [
    ("old_commune", "TEXT NOT NULL"),
    ("old_district", "TEXT NOT NULL"),
    ("old_province", "TEXT NOT NULL"),
    ("new_commune", "TEXT NOT NULL"),
    ("residents", "INTEGER NOT NULL"),
]
FACILITY_COLUMNS = [
    ("facility_code", "TEXT NOT NULL"),
    ("name", "TEXT NOT NULL"),
    ("kind", "TEXT NOT NULL"),
    ("old_commune", "TEXT NOT NULL"),
    ("old_district", "TEXT NOT NULL"),
    ("new_commune", "TEXT NOT NULL"),
    ("cashless_since", "DATE"),
    ("telemedicine", "BOOLEAN NOT NULL"),
]


@dataclass
class Registry:
    """What the registry holds, as arrays over the person pool (0 = no EHR by the last day)."""

    created: np.ndarray  # date ordinal of the EHR, 0 when none by ctx.end
    opened: np.ndarray  # date ordinal of the EHR whatever the end date, 0 when never
    uses_booking: np.ndarray  # bool: uses the remote booking app (meaningful where created > 0)
    has_book: np.ndarray  # bool: has an electronic medical book (meaningful where created > 0)
    counts: dict[str, int]


def ehr_dates(ctx: SimContext, pool: PersonPool) -> np.ndarray:
    """The day each resident's EHR is created (ordinal) whatever the end date, 0 if never."""
    rng = ctx.rng("health", "ehr", "created")
    district = np.array([c.district_code for c in ctx.frame.old_communes])[pool.commune]
    f25 = np.full(len(pool), COVERAGE_OTHERS)
    for code, share in COVERAGE_2025.items():
        f25[district == code] = share
    f23, f26 = f25 - GAIN_2023_2025, np.minimum(0.99, f25 + GAIN_2025)
    u = rng.random(len(pool))
    offset = rng.random(len(pool))
    created = np.zeros(len(pool), dtype=np.int64)
    periods: list[tuple[np.ndarray | float, np.ndarray, date, date]] = [
        (0.0, f23, date(2019, 1, 1), date(2023, 1, 1)),
        (f23, f25, date(2023, 1, 1), date(2025, 1, 1)),
        (f25, f26, date(2025, 1, 1), date(2026, 1, 1)),
    ]
    for low, high, first, end in periods:
        mask = (u >= low) & (u < high)
        span = (end - first).days
        created[mask] = first.toordinal() + (offset[mask] * span).astype(np.int64)
    # A record cannot predate its person: newborns get theirs at birth.
    has = created > 0
    created[has] = np.maximum(created[has], pool.birth[has])
    return created


def write_registry(ctx: SimContext, pool: PersonPool, facilities: list[Facility]) -> Registry:
    frame = ctx.frame
    end = ctx.end.toordinal()
    opened = ehr_dates(ctx, pool)
    created = np.where(opened <= end, opened, 0)
    rng = ctx.rng("health", "ehr", "attributes")
    n = len(pool)
    district = np.array([c.district_code for c in frame.old_communes])[pool.commune]
    cover = np.full(n, COVERAGE_OTHERS)
    book = np.full(n, E_BOOK_OTHERS)
    remote = np.full(n, BOOKING_OTHERS)
    for code in COVERAGE_2025:
        cover[district == code] = COVERAGE_2025[code]
        book[district == code] = E_BOOK[code]
        remote[district == code] = BOOKING[code]
    # Both services need an EHR, so their rates among EHR holders are share / coverage.
    has_book = rng.random(n) < book / cover
    uses_booking = rng.random(n) < remote / cover
    gap = rng.integers(UPDATE_GAP[0], UPDATE_GAP[1] + 1, n)
    nfd = rng.random(n) < ctx.defect_rate
    # Skipped doses of every child in the pool, drawn up front: drawing them for the children
    # with a record by the last day would shift every later child's draws with the end date.
    children = np.flatnonzero(pool.birth >= IMMUNISATION_SINCE.toordinal())
    skips = ctx.rng("health", "ehr", "immunisation").random((len(children), len(SCHEDULE)))
    skip_row = np.full(n, -1, dtype=np.int64)
    skip_row[children] = np.arange(len(children))
    registered = {f.old_commune: f.code for f in facilities if f.kind == "commune_station"}
    counts = {"persons": 0, "immunisations": 0}
    path = ctx.out / "health" / "ehr_registry.sqlite"
    with Database(f"{ctx.db_prefix}ehr_registry", ctx.pg_url, path) as db:
        db.table("persons", PERSON_COLUMNS, "person_id")
        db.table("immunisations", IMMUNISATION_COLUMNS, "person_id, vaccine_code, dose")
        db.table("commune_population", POPULATION_COLUMNS, "old_commune")
        db.table("facilities", FACILITY_COLUMNS, "facility_code")
        db.insert(
            "commune_population",
            [c for c, _ in POPULATION_COLUMNS],
            [
                (c.code, c.district_code, c.province_code, c.new_code, int(pool.sizes[i]))
                for i, c in enumerate(frame.old_communes)
            ],
        )
        db.insert(
            "facilities",
            [c for c, _ in FACILITY_COLUMNS],
            [
                (
                    f.code,
                    f.name,
                    f.kind,
                    f.old_commune,
                    f.district_code,
                    frame.old(f.old_commune).new_code,
                    f.cashless_since if f.cashless_since <= ctx.end else None,
                    f.telemedicine,
                )
                for f in facilities
            ],
        )
        # Column-wise, a batch at a time: whole-array conversions, one bulk load per table.
        commune_of = pool.commune
        old = frame.old_communes
        provinces = [c.province_code for c in old]
        districts = [c.district_code for c in old]
        communes = [c.code for c in old]
        new_codes = [c.new_code for c in old]
        station_of = [registered.get(c.code) for c in old]
        gaps = gap.astype(np.int64)
        schedule_age = np.array([age for _, _, _, age in SCHEDULE], dtype=np.int64)
        person_columns = [c for c, _ in PERSON_COLUMNS]
        shot_columns = [c for c, _ in IMMUNISATION_COLUMNS]
        people = np.flatnonzero(created)
        for start in range(0, len(people), BATCH):
            idx = people[start : start + BATCH]
            where = commune_of[idx].tolist()
            ids = [f"HSSK{i:09d}" for i in idx.tolist()]
            names = pool.names(idx)
            for k in np.flatnonzero(nfd[idx]).tolist():
                names[k] = unicodedata.normalize("NFD", names[k])
                ctx.defects.log(SOURCE, ids[k], "nfd_text", "full_name in NFD", ctx.end)
            made = created[idx]
            counts["persons"] += db.insert_columns(
                "persons",
                person_columns,
                [
                    ids,
                    pool.cccds(idx),
                    names,
                    pool.sex[idx].tolist(),
                    iso_dates(pool.birth[idx]),
                    [provinces[c] for c in where],
                    [districts[c] for c in where],
                    [communes[c] for c in where],
                    [new_codes[c] for c in where],
                    iso_dates(made),
                    iso_dates(made + (end - made) // gaps[idx] * gaps[idx]),
                    has_book[idx].tolist(),
                    uses_booking[idx].tolist(),
                ],
            )
            # Immunisations of the batch's children, person by person in schedule order: a
            # dose is given unless skipped or still to come after the run's last day.
            rows = skip_row[idx]
            kids = np.flatnonzero(rows >= 0)
            given = pool.birth[idx[kids]].astype(np.int64)[:, None] + schedule_age[None, :]
            done = (skips[rows[kids]] >= 0.05) & (given <= end)
            kid, dose = np.nonzero(done)
            who = kids[kid]
            counts["immunisations"] += db.insert_columns(
                "immunisations",
                shot_columns,
                [
                    [ids[k] for k in who.tolist()],
                    [SCHEDULE[d][0] for d in dose.tolist()],
                    [SCHEDULE[d][1] for d in dose.tolist()],
                    [SCHEDULE[d][2] for d in dose.tolist()],
                    iso_dates(given[kid, dose]),
                    [station_of[where[k]] for k in who.tolist()],
                ],
            )
    return Registry(
        created=created,
        opened=opened,
        uses_booking=uses_booking,
        has_book=has_book,
        counts=counts,
    )
