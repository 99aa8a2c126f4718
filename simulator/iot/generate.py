"""IoT generation: the stations' daily CSV dumps and the MQTT message stream they published.

Per day and station the readings are drawn from a seasonal model (salinity intrusion Feb–Apr on
the coast, flood levels Sept–Nov upstream, brown-planthopper waves after each rice crop), then
written twice: the station's own CSV backfill (``csv/<station>/<day>.csv``, the complete record)
and the messages it sent over MQTT (``messages/<day>.jsonl``), where duplicates, losses and late
deliveries happen. Nothing larger than one day is held in memory.

Scale: the 21 stations are fixed (the province has exactly these); the scale sets the water
cadence — every 15 min at scale ≥ 0.25 (one province-year: 6 × 35,040 messages × 5 values ≈
1.05 M readings, ≈ 2.1 M counting the CSV copy and the message copy), hourly below that.

The register (``stations.csv``) gives the two flood stations an alarm level I (demo values,
``stations.WATER_SITES``; the province sets the real ones per station): the October flood crest
and its high tides cross it, so the water-level alerts of the wall have episodes to show.

Ground truth is counted from the CSV rows actually written (the complete backfill), excluding
out-of-range readings (the warehouse quarantines them); silent periods have no rows at all. The
realtime indicators (OPS-IOT-STATIONS-SILENT, OPS-WATER-LEVEL-ALERTS: the open alerts at the
build's horizon) have no monthly cell and no ground truth here.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from simulator.context import SimContext
from simulator.frame import REORGANISATION
from simulator.iot.stations import Station, stations

SOURCE = "iot"
REGISTER_COLUMNS = [
    "station_code",
    "kind",
    "name",
    "old_commune_code",
    "old_district_code",
    "new_commune_code",
    "latitude",
    "longitude",
    "water_level_alarm_cm",
]
WATER_COLUMNS = [
    "message_id",
    "station_code",
    "observed_at",
    "province_code",
    "district_code",
    "commune_code",
    "salinity_ppt",
    "ph",
    "do_mg_l",
    "temperature_c",
    "water_level_cm",
]
INSECT_COLUMNS = [
    "message_id",
    "station_code",
    "night_of",
    "observed_at",
    "province_code",
    "district_code",
    "commune_code",
    "species_code",
    "species_name",
    "count",
]
# Light-trap species of the Mekong delta rice crop (code, Vietnamese name, typical nightly catch).
SPECIES = [
    ("BPH", "Rầy nâu (Nilaparvata lugens)", 150.0),
    ("WBPH", "Rầy lưng trắng (Sogatella furcifera)", 60.0),
    ("GLH", "Rầy xanh đuôi đen (Nephotettix virescens)", 40.0),
    ("RLF", "Sâu cuốn lá nhỏ (Cnaphalocrocis medinalis)", 25.0),
    ("YSB", "Bướm sâu đục thân 2 chấm (Scirpophaga incertulas)", 12.0),
    ("RBG", "Bọ xít hôi (Leptocorisa acuta)", 8.0),
]
# Working thresholds of this project (not official norms): salinity above 4 ‰ harms rice, the
# figure the Mekong delta's salinity bulletins use for rice; 3,000 brown planthoppers in one
# light trap in one night is treated as an immigration peak calling for a field check.
SALINITY_ALERT_PPT = 4.0
BPH_ALERT_PER_NIGHT = 3000
# Plausible ranges; outside them a reading is a sensor fault (defect out_of_range_reading).
VALID = {
    "salinity_ppt": (0.0, 40.0),
    "ph": (4.0, 10.0),
    "do_mg_l": (0.0, 20.0),
    "temperature_c": (15.0, 40.0),
    "water_level_cm": (-100.0, 800.0),
}
FAULTS = [("ph", 19.0), ("salinity_ppt", -5.0), ("do_mg_l", 45.0), ("temperature_c", 85.0)]
# Brown planthopper immigration peaks (day of year) after the winter-spring, summer-autumn and
# autumn-winter crops.
BPH_PEAKS = [18, 105, 200, 315]
TZ = "+07:00"


def interval_minutes(scale: float) -> int:
    return 15 if scale >= 0.25 else 60


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + TZ


def _water_day(station: Station, day: date, minutes: int, rng: np.random.Generator) -> np.ndarray:
    """Readings (n × 5, columns of VALID) for one station-day."""
    n = 24 * 60 // minutes
    hours = np.arange(n) * minutes / 60.0
    doy = day.timetuple().tm_yday + hours / 24.0
    year_factor = 1.0 + 0.15 * (day.year - 2024)  # 2025 a somewhat harsher dry season
    dry = np.exp(-(((doy - 75.0) / 28.0) ** 2))  # peak mid-March
    absolute_hours = (day - date(2024, 1, 1)).days * 24 + hours
    tide = np.sin(2 * math.pi * absolute_hours / 12.42)  # semi-diurnal tide
    salinity = station.coastal * (11.0 * dry * year_factor * (1 + 0.35 * tide) + 0.4) + 0.15
    salinity = np.maximum(0.0, salinity + rng.normal(0, 0.15 + 0.4 * station.coastal * dry, n))
    flood = np.exp(-(((doy - 285.0) / 32.0) ** 2))  # peak mid-October
    level = 120.0 + station.upstream * 330.0 * flood + (20 + 60 * station.coastal) * tide
    level = level + rng.normal(0, 4.0, n)
    temperature = (
        28.5
        + 1.8 * np.sin(2 * math.pi * (doy - 80) / 365)
        + 1.2 * np.sin(2 * math.pi * (hours - 9) / 24)
    )
    temperature = temperature + rng.normal(0, 0.3, n)
    ph = (
        7.2 - 0.25 * station.upstream * flood + 0.15 * station.coastal * dry + rng.normal(0, 0.1, n)
    )
    oxygen = (
        7.8 - 0.12 * (temperature - 26) - 1.0 * flood * station.upstream + rng.normal(0, 0.3, n)
    )
    return np.column_stack(
        [
            np.round(salinity, 2),
            np.round(ph, 2),
            np.round(np.maximum(oxygen, 0.5), 2),
            np.round(temperature, 1),
            np.round(level, 0),
        ]
    )


def _insect_night(station: Station, day: date, rng: np.random.Generator) -> list[int]:
    doy = day.timetuple().tm_yday
    strength = 0.6 + 0.8 * int(station.code[-2:]) / 15  # some districts see larger waves
    counts = []
    for code, _, base in SPECIES:
        mean = base * float(rng.lognormal(0, 0.5))
        if code in ("BPH", "WBPH"):
            wave = sum(math.exp(-(((doy - p) / 6.0) ** 2)) for p in BPH_PEAKS)
            mean += (
                (7000.0 if code == "BPH" else 1500.0)
                * strength
                * wave
                * float(rng.lognormal(0, 0.4))
            )
        counts.append(int(rng.poisson(mean)))
    return counts


class _Truth:
    """Monthly counts per station from the rows written, added to ctx.truth at the end."""

    def __init__(self) -> None:
        self.reporting: dict[tuple[str, str], int] = {}  # (station, month) → has valid reading
        self.salinity: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.bph: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])

    def flush(self, ctx: SimContext, by_code: dict[str, Station]) -> None:
        for kpi, table in (
            ("OPS-IOT-SALINITY-ALERTS", self.salinity),
            ("OPS-INSECT-DENSITY-ALERTS", self.bph),
        ):
            for (code, month), (num, den) in sorted(table.items()):
                _add(ctx, kpi, month, by_code[code].old_commune, num, den)
        for (code, month), valid in sorted(self.reporting.items()):
            _add(ctx, "OPS-IOT-STATIONS-REPORTING", month, by_code[code].old_commune, valid, 1)


def _add(ctx: SimContext, kpi: str, month: str, old_code: str, num: int, den: int) -> None:
    commune = ctx.frame.old(old_code)
    ctx.truth.add(kpi, month, "commune", commune.new_code, "2025", num, den)
    if month < REORGANISATION.strftime("%Y-%m"):
        ctx.truth.add(kpi, month, "district", commune.district_code, "legacy", num, den)
    ctx.truth.add(kpi, month, "province", "82", "2025", num, den)


def _codes(ctx: SimContext, station: Station, day: date) -> tuple[str, str, str]:
    """Admin codes the station sends; legacy firmware keeps the old ones after the change."""
    if station.legacy_codes and day >= REORGANISATION:
        old = ctx.frame.old(station.old_commune)
        ctx.defects.log(
            SOURCE,
            f"{station.code}/{day.isoformat()}",
            "outdated_admin_code",
            f"station still sends old commune {old.code} (now {old.new_code})",
            day,
        )
        return old.province_code, old.district_code, old.code
    province, district, commune = ctx.frame.codes_on(station.old_commune, day)
    return province, district or "", commune


def _silent_hours(ctx: SimContext, station: Station, day: date) -> tuple[float, float] | None:
    """A silent period (start hour, end hour) this day, if the station stops reporting."""
    rng = ctx.rng("iot", "silence", station.code, day)
    if rng.random() >= ctx.defect_rate * 2:
        return None
    start = float(rng.integers(0, 20))
    hours = float(rng.integers(2, 13))
    if station.kind == "insect":  # a dead trap misses its night
        start, hours = 0.0, 24.0
    ctx.defects.log(
        SOURCE,
        f"{station.code}/{day.isoformat()}T{int(start):02d}",
        "source_unavailable",
        f"station silent for {int(hours)} h from {int(start):02d}:00",
        day,
    )
    return start, start + hours


def _deliver(
    ctx: SimContext,
    message: dict[str, object],
    rng: np.random.Generator,
    today: list[str],
    tomorrow: list[str],
    day: date,
) -> int:
    """Append the message as the station published it (lost, late or twice); returns lines."""
    line = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    key = str(message["message_id"])
    draw = rng.random()
    share = ctx.defect_rate / 4
    if draw < share / 2:
        ctx.defects.log(SOURCE, key, "late_arriving", "message never published (CSV only)", day)
        return 0
    if draw < share:
        ctx.defects.log(SOURCE, key, "late_arriving", "message delivered the next day", day)
        tomorrow.append(line)
        return 1
    today.append(line)
    if draw < 2 * share:
        ctx.defects.log(SOURCE, key, "mqtt_duplicate", "same message_id published twice", day)
        today.append(line)
        return 2
    return 1


def generate(ctx: SimContext) -> dict[str, int]:
    out = ctx.out / "iot"
    (out / "messages").mkdir(parents=True, exist_ok=True)
    registry = stations(ctx.frame, ctx.seed)
    by_code = {s.code: s for s in registry}
    _write_registry(ctx, out / "stations.csv", registry)
    minutes = interval_minutes(ctx.scale)
    truth = _Truth()
    counts = {"stations": len(registry), "water_rows": 0, "insect_rows": 0, "messages": 0}
    carried: list[str] = []
    for day in ctx.days():
        month = day.strftime("%Y-%m")
        today: list[str] = carried
        tomorrow: list[str] = []
        for station in registry:
            rng = ctx.rng("iot", "readings", station.code, day)
            msg_rng = ctx.rng("iot", "delivery", station.code, day)
            silent = _silent_hours(ctx, station, day)
            province, district, commune = _codes(ctx, station, day)
            folder = out / "csv" / station.code
            folder.mkdir(parents=True, exist_ok=True)
            truth.reporting.setdefault((station.code, month), 0)
            with (folder / f"{day.isoformat()}.csv").open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                if station.kind == "water":
                    writer.writerow(WATER_COLUMNS)
                    values = _water_day(station, day, minutes, rng)
                    hour_seen: dict[int, bool] = {}
                    for i, row in enumerate(values):
                        moment = datetime(day.year, day.month, day.day) + timedelta(
                            minutes=i * minutes
                        )
                        hour = moment.hour + moment.minute / 60
                        if silent and silent[0] <= hour < silent[1]:
                            continue
                        reading = dict(zip(VALID, (float(v) for v in row), strict=True))
                        mid = f"{station.code}-{moment:%Y%m%d%H%M}"
                        if rng.random() < ctx.defect_rate / 4:
                            field, bad = FAULTS[int(rng.integers(len(FAULTS)))]
                            reading[field] = bad
                            ctx.defects.log(
                                SOURCE, mid, "out_of_range_reading", f"{field}={bad}", day
                            )
                        valid = all(lo <= reading[k] <= hi for k, (lo, hi) in VALID.items())
                        writer.writerow(
                            [mid, station.code, _iso(moment), province, district, commune]
                            + [_fmt(k, v) for k, v in reading.items()]
                        )
                        counts["water_rows"] += 1
                        if valid:
                            truth.reporting[(station.code, month)] = 1
                            above = reading["salinity_ppt"] > SALINITY_ALERT_PPT
                            hour_seen[moment.hour] = hour_seen.get(moment.hour, False) or above
                        message: dict[str, object] = {
                            "message_id": mid,
                            "station_code": station.code,
                            "kind": "water",
                            "observed_at": _iso(moment),
                            "province_code": province,
                            "district_code": district or None,
                            "commune_code": commune,
                            "payload": {k: _num(k, v) for k, v in reading.items()},
                        }
                        counts["messages"] += _deliver(ctx, message, msg_rng, today, tomorrow, day)
                    cell = truth.salinity[(station.code, month)]
                    cell[0] += sum(hour_seen.values())
                    cell[1] += len(hour_seen)
                else:
                    writer.writerow(INSECT_COLUMNS)
                    night = _insect_night(station, day, rng)
                    if silent:
                        continue
                    moment = datetime(day.year, day.month, day.day) + timedelta(days=1, hours=6)
                    mid = f"{station.code}-{day:%Y%m%d}"
                    if rng.random() < ctx.defect_rate:
                        night[0] = -1 * int(rng.integers(1, 500))
                        ctx.defects.log(
                            SOURCE, mid, "out_of_range_reading", f"BPH count={night[0]}", day
                        )
                    for (code, name, _), count in zip(SPECIES, night, strict=True):
                        writer.writerow(
                            [
                                mid,
                                station.code,
                                day.isoformat(),
                                _iso(moment),
                                province,
                                district,
                                commune,
                                code,
                                name,
                                count,
                            ]
                        )
                        counts["insect_rows"] += 1
                    if night[0] >= 0:
                        truth.reporting[(station.code, month)] = 1
                        cell = truth.bph[(station.code, month)]
                        cell[0] += int(night[0] > BPH_ALERT_PER_NIGHT)
                        cell[1] += 1
                    trap_message: dict[str, object] = {
                        "message_id": mid,
                        "station_code": station.code,
                        "kind": "insect",
                        "observed_at": _iso(moment),
                        "province_code": province,
                        "district_code": district or None,
                        "commune_code": commune,
                        "payload": {
                            code: c for (code, _, _), c in zip(SPECIES, night, strict=True)
                        },
                    }
                    counts["messages"] += _deliver(ctx, trap_message, msg_rng, today, tomorrow, day)
        (out / "messages" / f"{day.isoformat()}.jsonl").write_text(
            "".join(line + "\n" for line in today), encoding="utf-8"
        )
        carried = tomorrow
    truth.flush(ctx, by_code)
    return counts


def _fmt(key: str, value: float) -> str:
    return str(int(value)) if key == "water_level_cm" else f"{value:g}"


def _num(key: str, value: float) -> float | int:
    return int(value) if key == "water_level_cm" else value


def _write_registry(ctx: SimContext, path: Path, registry: list[Station]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(REGISTER_COLUMNS)
        for s in registry:
            old = ctx.frame.old(s.old_commune)
            alarm = s.water_level_alarm_cm
            writer.writerow(
                [
                    s.code,
                    s.kind,
                    s.name,
                    s.old_commune,
                    old.district_code,
                    s.new_commune,
                    s.latitude,
                    s.longitude,
                    "" if alarm is None else f"{alarm:g}",
                ]
            )
