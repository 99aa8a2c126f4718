"""IoT sector: files read back with pandas, ground truth recomputed, determinism, MQTT replay."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from simulator.iot import SECTOR
from simulator.iot.generate import BPH_ALERT_PER_NIGHT, SALINITY_ALERT_PPT


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _read_csv(out: Path, kind: str) -> pd.DataFrame:
    prefix = "WQ" if kind == "water" else "LT"
    frames = [
        pd.read_csv(p, dtype={"province_code": str, "district_code": str, "commune_code": str})
        for p in sorted((out / "iot" / "csv").glob(f"{prefix}-*/*.csv"))
    ]
    return pd.concat(frames, ignore_index=True)


def test_written_rows_read_back_and_truth(make_ctx):
    ctx = make_ctx(start=date(2025, 6, 25), end=date(2025, 7, 6), defect_rate=0.08)
    counts = SECTOR.generate(ctx)
    ctx.defects.close()
    water, insect = _read_csv(ctx.out, "water"), _read_csv(ctx.out, "insect")
    assert len(water) == counts["water_rows"] and len(insect) == counts["insect_rows"]
    lines = [
        json.loads(line)
        for p in sorted((ctx.out / "iot" / "messages").glob("*.jsonl"))
        for line in p.read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) == counts["messages"]
    defects = pd.read_parquet(ctx.out / "defects.parquet")
    kinds = defects["kind"].value_counts().to_dict()
    assert {"mqtt_duplicate", "out_of_range_reading", "late_arriving"} <= set(kinds)
    ids = [m["message_id"] for m in lines]
    assert len(ids) - len(set(ids)) == kinds["mqtt_duplicate"]
    # Every message comes from a CSV row; a message missing from the stream is a logged defect.
    csv_ids = set(water["message_id"]) | set(insect["message_id"])
    assert set(ids) <= csv_ids
    late = set(defects.loc[defects["kind"] == "late_arriving", "record_key"])
    assert csv_ids - set(ids) <= late
    # Admin codes: old before 1 July 2025, new after, except the logged legacy stations.
    after = water[water["observed_at"] >= "2025-07-01"]
    legacy = (
        after[after["province_code"] == "87"].shape[0]
        + after[after["district_code"].notna()].shape[0]
    )
    assert legacy > 0 and "outdated_admin_code" in kinds

    truth = pd.DataFrame(ctx.truth.rows())
    stations = pd.read_csv(ctx.out / "iot" / "stations.csv", dtype=str)
    new_of = dict(zip(stations["station_code"], stations["new_commune_code"], strict=True))
    water["month"] = water["observed_at"].str[:7]
    valid = water[
        water["salinity_ppt"].between(0, 40)
        & water["ph"].between(4, 10)
        & water["do_mg_l"].between(0, 20)
        & water["temperature_c"].between(15, 40)
    ].copy()
    valid["hour"] = valid["observed_at"].str[:13]
    hours = valid.groupby(["station_code", "hour"])["salinity_ppt"].max().reset_index()
    hours["month"] = hours["hour"].str[:7]
    hours["alert"] = hours["salinity_ppt"] > SALINITY_ALERT_PPT
    sal = truth[(truth.kpi_id == "OPS-IOT-SALINITY-ALERTS") & (truth.admin_level == "province")]
    expected = hours.groupby("month")["alert"].agg(["sum", "count"])
    for row in sal.itertuples():
        assert (row.numerator, row.denominator) == tuple(expected.loc[row.period])
    bph = insect[insect["species_code"] == "BPH"].copy()
    bph = bph[bph["count"] >= 0]
    bph["month"] = bph["night_of"].str[:7]
    bph["commune"] = bph["station_code"].map(new_of)
    exp_bph = bph.groupby(["month", "commune"])["count"].agg(
        alerts=lambda c: int((c > BPH_ALERT_PER_NIGHT).sum()), nights="count"
    )
    got = truth[(truth.kpi_id == "OPS-INSECT-DENSITY-ALERTS") & (truth.admin_level == "commune")]
    assert len(got) == len(exp_bph)
    for row in got.itertuples():
        assert (row.numerator, row.denominator) == tuple(exp_bph.loc[(row.period, row.admin_code)])
    rep = truth[(truth.kpi_id == "OPS-IOT-STATIONS-REPORTING") & (truth.admin_level == "province")]
    assert set(rep["denominator"]) == {21}
    legacy_rows = truth[truth.admin_level == "district"]
    assert set(legacy_rows["period"]) == {"2025-06"} and set(legacy_rows["structure"]) == {"legacy"}


def test_seasonal_calibration(make_ctx, tmp_path):
    """Salinity above 4 ‰ on the coast in March, the flood lifting the upstream level in October
    above the alarm level I the register sets for the two flood stations (and only for them)."""
    for start, end in (
        (date(2025, 3, 10), date(2025, 3, 13)),
        (date(2024, 10, 12), date(2024, 10, 15)),
    ):
        ctx = make_ctx(start=start, end=end, defect_rate=0.0, out=tmp_path / str(start))
        SECTOR.generate(ctx)
        water = _read_csv(ctx.out, "water")
        by_station = water.groupby("station_code")[["salinity_ppt", "water_level_cm"]].mean()
        highest = water.groupby("station_code")["water_level_cm"].max()
        register = pd.read_csv(ctx.out / "iot" / "stations.csv", dtype={"station_code": str})
        alarm = register.set_index("station_code")["water_level_alarm_cm"].dropna()
        assert sorted(alarm.index) == ["WQ-05", "WQ-06"]
        if start.month == 3:
            assert by_station.loc["WQ-01", "salinity_ppt"] > 6.0  # Gò Công Đông, dry season
            assert by_station.loc["WQ-05", "salinity_ppt"] < 1.0  # Tân Hồng, fresh water
            assert (highest[alarm.index] < alarm).all()  # no flood in the dry season
        else:
            assert by_station.loc["WQ-05", "water_level_cm"] > 350  # flood upstream
            assert by_station.loc["WQ-01", "water_level_cm"] < 200
            assert by_station.loc["WQ-01", "salinity_ppt"] < 1.0
            assert (highest[alarm.index] > alarm).all()  # the crest crosses alarm level I


def test_same_seed_same_bytes(make_ctx, tmp_path):
    sums = []
    for name in ("a", "b"):
        ctx = make_ctx(start=date(2025, 6, 29), end=date(2025, 7, 2), out=tmp_path / name)
        SECTOR.generate(ctx)
        sums.append(_checksums(ctx.out / "iot"))
    assert sums[0] == sums[1] and len(sums[0]) > 80


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), 1.0):
            return True
    except OSError:
        return False


def test_publisher_unreachable_broker_fails_clearly(make_ctx):
    ctx = make_ctx(start=date(2025, 7, 1), end=date(2025, 7, 1))
    SECTOR.generate(ctx)
    run = subprocess.run(
        [
            sys.executable,
            *("-m", "simulator.iot.publisher", "--sim-dir", str(ctx.out)),
            *("--port", "1", "--once", "2025-07-01"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2 and "unreachable" in run.stderr


@pytest.mark.integration
@pytest.mark.skipif(not _broker_up(), reason="Mosquitto not running on 127.0.0.1:1883")
def test_publisher_replays_one_day_over_mqtt(make_ctx):
    import paho.mqtt.client as mqtt

    ctx = make_ctx(start=date(2025, 7, 1), end=date(2025, 7, 1))
    SECTOR.generate(ctx)
    expected = (ctx.out / "iot" / "messages" / "2025-07-01.jsonl").read_text().splitlines()
    received: list[str] = []
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="iochub-test-iot-sub")
    client.on_message = lambda _c, _u, msg: received.append(msg.payload.decode())
    client.on_subscribe = lambda *_: ready.set()
    client.connect("127.0.0.1", 1883)
    # A root of its own: a province served at the same time publishes under its own root.
    root = f"iochub/test-{os.getpid()}"
    client.subscribe(f"{root}/#", qos=1)
    client.loop_start()
    assert ready.wait(10)
    run = subprocess.run(
        [
            sys.executable,
            *("-m", "simulator.iot.publisher", "--sim-dir", str(ctx.out)),
            *("--once", "2025-07-01", "--topic-root", root),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    deadline = threading.Event()
    for _ in range(50):
        if len(received) >= len(expected):
            break
        deadline.wait(0.1)
    client.loop_stop()
    client.disconnect()
    assert sorted(received) == sorted(expected)
