"""The hand-written IoT cases as the stations send them: CSV dumps and MQTT messages.

``iot/stations.yaml`` holds the station register and, per case, the readings and trap-nights by
hand. This module writes them in the stations' own layout, the one the simulator writes
(``simulator.iot.generate``: the register's columns, its optional ``water_level_alarm_cm``
blank unless a row sets it, ``csv/<station>/<day>.csv`` with its column order, a message per
reading or night with the values under ``payload``), and publishes the MQTT copies on the broker
with the topics of ``simulator.iot.publisher``. Only the containers come from the simulator;
every value is the case's.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml

from simulator.iot.generate import INSECT_COLUMNS, REGISTER_COLUMNS, SPECIES, WATER_COLUMNS
from simulator.iot.publisher import topic
from tests.kpi_cases.case_source import STAGES, CaseSource

IOT_DIR = Path(__file__).parent / "iot"
STATIONS = IOT_DIR / "stations.yaml"
# What a reading or a night holds unless the case says otherwise (no case turns on these).
WATER_DEFAULTS = {"ph": 7.2, "do_mg_l": 7.5, "temperature_c": 29.0, "water_level_cm": 120}
NIGHT_DEFAULTS = {"WBPH": 40, "GLH": 30, "RLF": 20, "YSB": 10, "RBG": 5}
REORGANISATION = datetime(2025, 7, 1)


@dataclass
class IotRows:
    """The stations' output: register rows, CSV rows per dump and stage, MQTT messages."""

    register: list[dict[str, Any]]
    # csv/<station>/<day>.csv → stage → rows (lists in the dump's column order)
    dumps: dict[str, dict[str, list[list[Any]]]] = field(
        default_factory=lambda: defaultdict(lambda: {stage: [] for stage in STAGES})
    )
    messages: list[dict[str, Any]] = field(default_factory=list)  # in publishing order


def load_iot_cases(path: Path = STATIONS) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _stages(entry: dict[str, Any]) -> list[str]:
    """The dumps a reading or night is in: the first and the rewritten one, the rewritten one
    only (it was written after the first landing), or none."""
    where = entry.get("csv", "first")
    return {"first": list(STAGES), "later": ["later"], "none": []}[where]


def _copies(entry: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """The payloads published on MQTT for it: ``mqtt`` times the same, or one differing copy."""
    sent = entry.get("mqtt", 0)
    if isinstance(sent, dict):
        return [{**values, **sent}]
    return [values] * int(sent)


def iot_rows(cases: dict[str, Any]) -> IotRows:
    register = {row["station_code"]: row for row in cases["register"]}
    rows = IotRows(register=list(cases["register"]))
    for name, case in cases["cases"].items():
        station = case["station"]
        kind = register[station]["kind"]
        for entry in case.get("readings" if kind == "water" else "nights", []):
            unknown = set(entry) - {"at", "night", "csv", "mqtt", "salinity_ppt", "BPH"}
            unknown -= set(WATER_DEFAULTS) | set(NIGHT_DEFAULTS)
            if unknown:
                raise ValueError(f"{name}: unknown field(s) {sorted(unknown)}")
            if kind == "water":
                _add_reading(rows, case, station, entry)
            else:
                _add_night(rows, case, station, entry)
    return rows


def _sent_codes(case: dict[str, Any], day: datetime) -> list[str]:
    codes: list[str] = case["sends"]
    if day >= REORGANISATION:
        codes = case.get("sends_from_july", codes)
    return codes


def _envelope(
    message_id: str, station: str, kind: str, observed: datetime, codes: list[str]
) -> dict[str, Any]:
    province, district, commune = codes
    return {
        "message_id": message_id,
        "station_code": station,
        "kind": kind,
        "observed_at": _iso(observed),
        "province_code": province,
        "district_code": district or None,
        "commune_code": commune,
    }


def _add_reading(rows: IotRows, case: dict[str, Any], station: str, entry: dict[str, Any]) -> None:
    moment = datetime.fromisoformat(entry["at"])
    message_id = f"{station}-{moment:%Y%m%d%H%M}"
    codes = _sent_codes(case, moment)
    values = {
        "salinity_ppt": entry["salinity_ppt"],
        **{k: entry.get(k, v) for k, v in WATER_DEFAULTS.items()},
    }
    line = [message_id, station, _iso(moment), *codes]
    line += [_number(values[column]) for column in WATER_COLUMNS[6:]]
    dump = f"csv/{station}/{moment:%Y-%m-%d}.csv"
    for stage in _stages(entry):
        rows.dumps[dump][stage].append(line)
    for payload in _copies(entry, values):
        rows.messages.append(
            {**_envelope(message_id, station, "water", moment, codes), "payload": payload}
        )


def _add_night(rows: IotRows, case: dict[str, Any], station: str, entry: dict[str, Any]) -> None:
    night = datetime.fromisoformat(entry["night"])
    observed = night + timedelta(days=1, hours=6)  # the night's count is sent at 06:00
    message_id = f"{station}-{night:%Y%m%d}"
    codes = _sent_codes(case, night)
    counts = {"BPH": entry["BPH"], **{k: entry.get(k, v) for k, v in NIGHT_DEFAULTS.items()}}
    dump = f"csv/{station}/{night:%Y-%m-%d}.csv"
    for code, species_name, _ in SPECIES:
        line = [message_id, station, f"{night:%Y-%m-%d}", _iso(observed), *codes]
        line += [code, species_name, counts[code]]
        for stage in _stages(entry):
            rows.dumps[dump][stage].append(line)
    for payload in _copies(entry, counts):
        rows.messages.append(
            {**_envelope(message_id, station, "insect", observed, codes), "payload": payload}
        )


def write_dumps(folder: Path, rows: IotRows, stage: str) -> int:
    """The stations' files under ``folder`` as they stand at ``stage``; files written."""
    with (folder / "stations.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(REGISTER_COLUMNS)
        # an optional column a register row leaves out is written blank (water_level_alarm_cm)
        writer.writerows([row.get(c, "") for c in REGISTER_COLUMNS] for row in rows.register)
    written = 1
    for name, stages in rows.dumps.items():
        lines = stages[stage]
        if not lines:
            continue  # not written yet at this stage
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        header = WATER_COLUMNS if "/WQ-" in name else INSECT_COLUMNS
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(lines)
        written += 1
    return written


def publish(host: str, port: int, root: str, messages: list[dict[str, Any]]) -> int:
    """Publish the messages at QoS 1 on the stations' topics; returns how many the broker
    acknowledged."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{root}-kpi-cases")
    client.connect(host, port)
    client.loop_start()
    try:
        sent = [
            client.publish(topic(message, root), json.dumps(message).encode(), qos=1)
            for message in messages
        ]
        for info in sent:
            info.wait_for_publish(timeout=10)
        return sum(1 for info in sent if info.is_published())
    finally:
        client.loop_stop()
        client.disconnect()


def forget_session(host: str, port: int, client_id: str) -> None:
    """Connecting with a clean session removes the broker's queue kept for ``client_id``."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(host, port)
    client.loop(timeout=0.5)
    client.disconnect()


CASE_SOURCE = CaseSource(
    folder="iot",
    env=lambda folder: {"IOC_IOT_CSV_DIR": str(folder)},
    write=lambda folder, stage: write_dumps(folder, iot_rows(load_iot_cases()), stage),
    sources=("iot_csv_backfill",),
)
