"""The whole demo province: ``ioc sim generate`` is deterministic, ``ioc sim serve`` answers.

Runs every sector through the orchestrator (two processes, servers when they answer) on a short
range around the 2025 reorganisation, then starts the province's servers and talks to each over
its real protocol: the QĐ 766 feed and the agriculture APIs over HTTP, the IoT stations over MQTT.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from iochub.settings import Settings
from simulator.generate import SECTOR_MODULES, GenerateParams, generate
from simulator.records import DEFECT_KINDS
from simulator.serve import start_all, stop_all

pytestmark = pytest.mark.integration


def _params(settings: Settings) -> GenerateParams:
    return GenerateParams(
        scale=0.002,
        seed=11,
        start=date(2025, 6, 20),
        end=date(2025, 10, 5),  # reaches the HK1 education export of 30 September
        defect_rate=0.02,
        pg_url=settings.sim_pg_url,
        mysql_url=settings.sim_mysql_url,
        db_prefix=settings.sim_db_prefix,
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def province(home: Settings) -> Iterator[Settings]:
    generate(home.sim_dir, _params(home))
    yield home
    stop_all(home)


def test_generate_is_deterministic_and_covers_every_sector(province: Settings) -> None:
    first = _digest(province.sim_dir)
    manifest = json.loads((province.sim_dir / "manifest.json").read_text())
    assert set(manifest["written"]) == {m.rsplit(".", 1)[1] for m in SECTOR_MODULES}
    assert all(sum(counts.values()) > 0 for counts in manifest["written"].values())

    generate(province.sim_dir, _params(province))
    assert _digest(province.sim_dir) == first  # same seed, same bytes, every file

    truth = pq.read_table(province.sim_dir / "ground_truth.parquet").to_pandas()
    assert manifest["ground_truth_rows"] == len(truth)
    # Commune rows use the 102 new communes; legacy district rows exist only before July 2025.
    assert truth.loc[truth.admin_level == "commune", "admin_code"].nunique() <= 102
    legacy = truth[truth.structure == "legacy"]
    assert not legacy.empty and (legacy.period < "2025-07").all()
    assert {"YT-01", "766-2.1", "GD-01", "XH-02", "OPS-IOT-STATIONS-REPORTING"} <= set(truth.kpi_id)

    defects = pq.read_table(province.sim_dir / "defects.parquet").to_pandas()
    assert manifest["defects"] == len(defects)
    assert set(defects.kind) <= DEFECT_KINDS
    assert {"invalid_base64", "outdated_admin_code", "duplicate_record"} <= set(defects.kind)


def test_served_systems_answer_over_their_protocols(province: Settings) -> None:
    paho = pytest.importorskip("paho.mqtt.client")
    received: list[str] = []
    got_one = threading.Event()

    def on_message(_client: object, _userdata: object, message: object) -> None:
        received.append(message.topic)  # type: ignore[attr-defined]
        got_one.set()

    subscriber = paho.Client(paho.CallbackAPIVersion.VERSION2)
    subscriber.on_message = on_message
    subscriber.connect("127.0.0.1", 1883)
    subscriber.subscribe(f"{province.sim_topic_root}/#", qos=1)
    subscriber.loop_start()
    try:
        started = {service.name for service, _ in start_all(province)}
        assert started == {"portal766-api", "agriculture-api", "iot-mqtt-publisher"}

        token = (province.sim_dir / "public_services" / "portal766_token.txt").read_text().strip()
        body = {"timeType": "month", "year": 2025, "month": 6, "rootDepartmentId": "82"}
        base = province.sim_port_base
        url = f"http://127.0.0.1:{base + 66}/api/v1/reporting/dvc-progress-tree"
        assert httpx.post(url, json=body, timeout=10).status_code == 401
        for _ in range(5):  # the feed answers 5xx now and then, as the real one does
            answer = httpx.post(
                url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            if answer.status_code == 200:
                break
        assert answer.status_code == 200
        assert "totalReceived" in json.dumps(answer.json())

        systems = httpx.get(f"http://127.0.0.1:{base + 100}/api", timeout=10)
        assert systems.status_code == 200 and systems.json()

        assert got_one.wait(30), "no MQTT message from the IoT stations within 30 s"
        root = province.sim_topic_root
        assert received[0].startswith((f"{root}/water/", f"{root}/insect/"))
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
        stopped = stop_all(province)
    assert set(stopped) == {"portal766-api", "agriculture-api", "iot-mqtt-publisher"}
