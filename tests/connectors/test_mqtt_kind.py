"""The ``mqtt`` kind against the real Mosquitto broker (127.0.0.1:1883).

Messages are published here with paho at QoS 1 on a topic prefix unique to the test, then
extracted with a copy of the registered ``iot_mqtt`` source (its contract, a unique client id):
landed + quarantined must equal the distinct messages sent, duplicates must be gone, reasons
right, and what is published while no extract runs must arrive, exactly once, on the next run
(the broker's persistent session). A listener (``follow_mqtt``) commits one run per batch and
holds the source meanwhile. Landed rows are read back from the Parquet files with DuckDB,
independently of the manifest. The last test drains what the province's own publisher
(``ioc sim serve`` in the ``province`` fixture) sends.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import paho.mqtt.client as mqtt
import pytest

from connectors.extract import extract_source
from connectors.kinds.mqtt import committed_ids, follow_mqtt
from connectors.landing import Manifest, read_manifests
from connectors.registry import Source, load_registry
from connectors.source_lock import SourceBusy, holder
from iochub.settings import Settings, get_settings

BROKER = ("127.0.0.1", 1883)
COMMUNE = "28249"  # Phường Đạo Thạnh, a commune of the 2025 structure


def _source(settings: Settings, client_id: str, prefix: str | None, **mqtt: float) -> Source:
    """The registered iot_mqtt source with its own client id (and topics under ``prefix``)."""
    source = load_registry(settings)["iot_mqtt"]
    assert source.mqtt is not None
    tables = source.tables
    if prefix is not None:
        tables = [
            t.model_copy(update={"topic": f"{prefix}/{t.topic.split('/')[-2]}/+"})
            for t in tables
            if t.topic
        ]
    spec = source.mqtt.model_copy(update={"client_id": client_id, **mqtt})
    return source.model_copy(update={"mqtt": spec, "tables": tables})


def _forget_session(client_id: str) -> None:
    """Connecting with a clean session removes the broker's queue for this client id."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(*BROKER)
    client.loop(timeout=0.5)
    client.disconnect()


def _publish(topic: str, payloads: list[bytes]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4()}")
    client.connect(*BROKER)
    client.loop_start()
    try:
        infos = [client.publish(topic, p, qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(timeout=10)
        assert all(info.is_published() for info in infos)
    finally:
        client.loop_stop()
        client.disconnect()


def _water(message_id: str, hour: int, **payload: float) -> bytes:
    reading = {
        "salinity_ppt": 0.4,
        "ph": 7.1,
        "do_mg_l": 7.5,
        "temperature_c": 29.0,
        "water_level_cm": 120,
    }
    reading.update(payload)
    body = {
        "message_id": message_id,
        "station_code": "WQ-01",
        "kind": "water",
        "observed_at": f"2025-07-01T{hour:02d}:00:00+07:00",
        "province_code": "82",
        "district_code": None,
        "commune_code": COMMUNE,
        "payload": reading,
    }
    return json.dumps(body).encode()


def _landed_ids(settings: Settings, table: str) -> list[str]:
    files = sorted((settings.raw_dir / "iot_mqtt" / table).rglob("*.parquet"))
    if not files:
        return []
    rows = duckdb.sql(
        f"SELECT message_id FROM read_parquet({[str(f) for f in files]}, union_by_name=true)"
    ).fetchall()
    return [r[0] for r in rows]


def _quarantine(settings: Settings, manifest: Manifest) -> list[tuple[str, str | None]]:
    if manifest.quarantine_path is None:
        return []
    path = settings.lake_dir / manifest.quarantine_path
    rows = duckdb.sql(f"SELECT reason, table_name FROM read_parquet('{path}')").fetchall()
    return sorted((r[0], r[1]) for r in rows)


def _invariant(manifest: Manifest) -> None:
    manifest.check_invariant()
    for table, rows_in in manifest.rows_in.items():
        landed = manifest.rows_landed.get(table, 0)
        assert rows_in == landed + manifest.rows_quarantined.get(table, 0)


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("IOC_MQTT_URL", raising=False)
    return get_settings()


@pytest.fixture
def client_id() -> Iterator[str]:
    name = f"iochub-test-{uuid.uuid4().hex[:12]}"
    yield name
    _forget_session(name)


def test_durable_session_dedup_and_quarantine(own_home: Settings, client_id: str) -> None:
    prefix = f"iochub/test/{uuid.uuid4().hex[:12]}"
    source = _source(own_home, client_id, prefix, idle_seconds=1.0)

    # The first run creates the broker's session for this client id: nothing is waiting yet.
    first = extract_source(source, own_home)
    assert first.rows_in == {} and first.items_in == 0

    # Published while no extract runs: kept by the broker for the session.
    valid = [_water(f"WQ-01-T{i:02d}", i) for i in range(10)]
    out_of_range = _water("WQ-01-T10", 10, ph=19.0)
    invalid = b'{"message_id": "WQ-01-T11", "station_code": '  # truncated JSON
    _publish(f"{prefix}/water/WQ-01", [*valid, valid[3], out_of_range, valid[7], invalid])

    second = extract_source(source, own_home)
    _invariant(second)
    assert second.rows_in == {"water_readings": 11}  # 10 valid + the out-of-range, no duplicate
    assert second.rows_landed == {"water_readings": 10}
    assert second.rows_quarantined == {"water_readings": 1}
    assert second.items_in == 12 and second.items_quarantined == 1  # 12 distinct messages
    assert _quarantine(own_home, second) == [
        ("invalid_json", None),
        ("out_of_range", "water_readings"),
    ]
    ids = _landed_ids(own_home, "water_readings")
    assert sorted(ids) == [f"WQ-01-T{i:02d}" for i in range(10)]

    # More while nothing runs, with a re-send of a message landed by the previous run and one
    # of the message it quarantined: both known from the committed parts, both dropped.
    later = [_water(f"WQ-01-U{i:02d}", 12 + i) for i in range(5)]
    _publish(f"{prefix}/water/WQ-01", [*later, valid[0], out_of_range])
    third = extract_source(source, own_home)
    _invariant(third)
    assert third.rows_landed == {"water_readings": 5}
    assert third.rows_quarantined == {}
    assert third.quarantine_path is None
    ids = _landed_ids(own_home, "water_readings")
    assert len(ids) == len(set(ids)) == 15
    # The ids are read from the lake, not carried in every manifest's watermarks.
    assert set(third.watermark_after) == {"water_readings"}
    assert committed_ids(own_home, source, "message_id")["water_readings"] == [
        *[f"WQ-01-T{i:02d}" for i in range(11)],
        *[f"WQ-01-U{i:02d}" for i in range(5)],
    ]

    # Nothing is left in the session: a fourth run gets nothing.
    fourth = extract_source(source, own_home)
    assert fourth.items_in == 0 and sum(fourth.rows_in.values()) == 0


def test_unreachable_broker_says_what_to_check(
    own_home: Settings, client_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.kinds.base import SourceUnavailable

    monkeypatch.setenv("IOC_MQTT_URL", "mqtt://127.0.0.1:1")
    source = _source(own_home, client_id, None)
    with pytest.raises(SourceUnavailable, match="IOC_MQTT_URL"):
        extract_source(source, own_home)


def test_registered_source_lands_the_province_stream(lake_home: Settings, client_id: str) -> None:
    # The province's publisher replays its stations' log at an hour a second without end, so the
    # run is bounded in time; the contract and topics are the registered ones. The log has night
    # gaps of up to 8 hours (8 s of silence): the run must wait out more than that.
    source = _source(lake_home, client_id, None, idle_seconds=10.0, max_seconds=20.0)
    manifest = extract_source(source, lake_home)
    _invariant(manifest)
    landed = _landed_ids(lake_home, "water_readings") + _landed_ids(lake_home, "light_trap_counts")
    assert len(landed) == sum(manifest.rows_landed.values()) > 0
    assert len(landed) == len(set(landed))
    published: set[str] = set()
    for path in (lake_home.sim_dir / "iot" / "messages").glob("*.jsonl"):
        published.update(json.loads(line)["message_id"] for line in path.open() if line.strip())
    assert set(landed) & published, "nothing landed comes from the province's message log"


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)


def test_a_listener_lands_each_batch_as_a_run_and_holds_the_source(
    own_home: Settings, client_id: str
) -> None:
    prefix = f"iochub/test/{uuid.uuid4().hex[:12]}"
    source = _source(own_home, client_id, prefix, batch_seconds=1.0)
    committed: list[Manifest] = []
    stop = threading.Event()
    listener = threading.Thread(
        target=follow_mqtt, args=(source, own_home, stop, committed.append), daemon=True
    )
    listener.start()
    try:
        _wait_for(lambda: holder(own_home, "iot_mqtt") is not None, "the listener holds the lock")
        # The listener lands the source: a scheduled run or a hand-run extract is refused at
        # once, naming the listener, and sweeps nothing of the listener's uncommitted parts.
        with pytest.raises(SourceBusy, match="MQTT listener of iot_mqtt"):
            extract_source(source, own_home)
        held = holder(own_home, "iot_mqtt")
        assert held is not None and held["listener"] is True and held["pid"] == os.getpid()

        first = [_water(f"WQ-01-L{i:02d}", i) for i in range(6)]
        _publish(f"{prefix}/water/WQ-01", first)
        _wait_for(lambda: len(committed) >= 1, "a run committed after the first batch")
        assert committed[0].rows_landed == {"water_readings": 6}
        assert sorted(_landed_ids(own_home, "water_readings")) == [
            f"WQ-01-L{i:02d}" for i in range(6)
        ]

        # A second batch, with a re-send of a message the first run landed and one impossible
        # reading: a second run, the re-send removed against the first run's committed ids.
        second = [_water(f"WQ-01-M{i:02d}", 6 + i) for i in range(3)]
        _publish(f"{prefix}/water/WQ-01", [*second, first[2], _water("WQ-01-M03", 9, ph=19.0)])
        _wait_for(lambda: len(committed) >= 2, "a second run committed")
    finally:
        stop.set()
        listener.join(timeout=30)
    assert not listener.is_alive()
    assert len(committed) == 2, [m.rows_in for m in committed]
    for manifest in committed:
        _invariant(manifest)
    assert committed[1].rows_landed == {"water_readings": 3}
    assert committed[1].rows_quarantined == {"water_readings": 1}
    ids = _landed_ids(own_home, "water_readings")
    assert len(ids) == len(set(ids)) == 9
    # Each run is an ordinary committed run: the state the next scheduled run starts from holds
    # both, and the lock is free again.
    assert [m.run_id for m in read_manifests(own_home, "iot_mqtt")] == [m.run_id for m in committed]
    assert holder(own_home, "iot_mqtt") is None
    # Re-sent after the listener stopped: the scheduled run knows both from the lake.
    _publish(f"{prefix}/water/WQ-01", [first[0], second[1]])
    after = extract_source(source, own_home)
    assert after.items_in == 0 and sum(after.rows_in.values()) == 0


def test_committed_ids_skip_parts_of_runs_that_never_committed(
    own_home: Settings, client_id: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = _source(own_home, client_id, None)
    folder = own_home.raw_dir / "iot_mqtt" / "water_readings" / "load_date=2025-07-01"
    folder.mkdir(parents=True)
    for run_id, ids in (
        ("20250701T000000000000Z-aaaaaa", ["A", "B"]),
        ("20250701T010000000000Z-bbbbbb", ["C"]),
    ):
        pq.write_table(pa.table({"message_id": ids}), folder / f"{run_id}.00001.parquet")
    manifests = own_home.manifest_dir / "iot_mqtt"
    manifests.mkdir(parents=True)
    (manifests / "20250701T000000000000Z-aaaaaa.json").write_text("{}")  # only the first committed
    found = committed_ids(own_home, source, "message_id", limit=5)
    assert found == {"water_readings": ["A", "B"], "light_trap_counts": []}
    assert committed_ids(own_home, source, "message_id", limit=1)["water_readings"] == ["B"]


def test_ids_kept_in_older_manifests_are_not_carried_on(own_home: Settings, client_id: str) -> None:
    from connectors.kinds.base import ExtractRun
    from connectors.kinds.mqtt import _Handler
    from connectors.state import SourceState

    source = _source(own_home, client_id, None)
    assert source.mqtt is not None
    state = SourceState(own_home, "iot_mqtt")
    state.watermarks.update(
        {"water_readings": "2025-07-01 10:00:00", "water_readings#recent_ids": '["A"]'}
    )
    with ExtractRun(source, own_home, state=state) as run:
        _Handler(run, source.mqtt, {}, {})
        assert run.manifest.watermark_before == {"water_readings": "2025-07-01 10:00:00"}
        assert run.manifest.watermark_after == {"water_readings": "2025-07-01 10:00:00"}
        assert state.watermarks == {"water_readings": "2025-07-01 10:00:00"}


def test_a_listener_waits_for_a_scheduled_run_then_takes_the_source(
    own_home: Settings, client_id: str
) -> None:
    from connectors.source_lock import source_lock
    from iochub.listener import follow

    prefix = f"iochub/test/{uuid.uuid4().hex[:12]}"
    source = _source(own_home, client_id, prefix, batch_seconds=1.0)
    held, release = threading.Event(), threading.Event()

    def scheduled_run() -> None:  # a DAG run draining the source when the listener starts
        with source_lock(own_home, "iot_mqtt", "extract run of iot_mqtt"):
            held.set()
            release.wait(30)

    drain = threading.Thread(target=scheduled_run, daemon=True)
    drain.start()
    assert held.wait(10)
    said: list[str] = []
    stop = threading.Event()
    listener = threading.Thread(
        target=follow, args=(own_home, source, None, 300.0, said.append, stop), daemon=True
    )
    listener.start()
    try:
        _wait_for(lambda: any("listening once it ends" in s for s in said), "the listener waits")
        assert listener.is_alive()
        release.set()
        drain.join(timeout=10)
        _wait_for(
            lambda: (holder(own_home, "iot_mqtt") or {}).get("listener") is True,
            "the listener holds the source once the run ended",
        )
        _publish(f"{prefix}/water/WQ-01", [_water("WQ-01-W00", 1)])
        _wait_for(lambda: any("landed {'water_readings': 1}" in s for s in said), "a run")
    finally:
        release.set()
        stop.set()
        listener.join(timeout=30)
    assert not listener.is_alive()

    # A second listener beside a running one is refused at once: two would split the stream.
    with source_lock(own_home, "iot_mqtt", "MQTT listener of iot_mqtt", listener=True):
        outcome: list[BaseException] = []

        def second() -> None:
            try:
                follow(own_home, source, None, 300.0, said.append, threading.Event())
            except SourceBusy as exc:
                outcome.append(exc)

        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=10)
        assert len(outcome) == 1
