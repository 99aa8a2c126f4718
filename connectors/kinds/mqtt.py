"""The ``mqtt`` kind: sensor messages drained from an MQTT broker into the lake.

Each run connects with the source's fixed client id and a persistent session (MQTT 3.1.1,
``clean_session=False``) and subscribes to every table's topic at QoS 1, so what the stations
publish while no extract runs is queued by the broker and delivered on the next run. The run
drains until the topics stay quiet for ``idle_seconds`` (or ``max_messages`` / ``max_seconds`` are
reached: a live stream never goes quiet), and hands the messages to ``run.land`` in
micro-batches: one row per message, the top-level fields plus the fields of its ``payload``
object, every value as text (the landing contract types and range-checks them, so an impossible
reading is quarantined as ``out_of_range``). A message that is not a JSON object is quarantined
whole (``invalid_json``).

Two ways to run. A scheduled run (``extract_mqtt``, the DAG's task) drains and stops. A
listener (``follow_mqtt``, ``ioc extract <source> --follow``, which ``make demo`` starts) stays
subscribed and commits a run every ``batch_seconds`` while messages arrive, so a reading reaches
the lake within that time instead of waiting for the schedule; it holds the source's lock
(connectors.source_lock) for its whole life, and the scheduled runs skip meanwhile.

Duplicates (QoS 1 is at-least-once, and stations re-send) are removed by ``message_id_field``:
within the run, and against the ids of the newest ``RECENT_IDS`` messages of each table that
earlier runs committed, landed or quarantined. Those are read back from the lake's newest parts
(:func:`committed_ids`), which commit atomically with their manifest, so the set can never say
more or less than the lake holds; a listener reads them once and keeps them up to date in
memory. (They used to be copied into every manifest: 2,000 ids per table, twice, about 100 KB a
manifest, at a listener's run a minute.) An older duplicate that slips past them is removed
downstream by primary key, like every lag-window re-read.

Acknowledgement. The client runs with ``manual_ack=True`` and acknowledges a message only once
it has been parsed, de-duplicated and buffered into this run, never on receipt. Acknowledging
only after the manifest is committed is not feasible: the core commits after the kind returns,
and the broker stops sending once ``max_inflight_messages`` (Mosquitto: 20) are unacknowledged,
so holding acks to the end would stall any drain longer than 20 messages. The trade-off: if the
process dies between the ack and the manifest commit, the messages acknowledged in that run are
not redelivered. They are not lost for the warehouse: every station also writes the complete
daily CSV dump (source ``iot_csv_backfill``), which is the record of reference.

Broker sizing. A persistent session only keeps what the broker agrees to queue: Mosquitto keeps
at most ``max_queued_messages`` (default 1000) per offline client and silently drops the rest.
Measured here: 9,462 messages published between two runs, 1,000 delivered. Production brokers
need ``max_queued_messages`` (and ``max_queued_bytes``) sized for the longest gap between runs
(at the 15-minute cadence the 21 stations send about 600 messages a day), or ``0`` (no limit).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pyarrow.parquet as pq

from connectors.kinds.base import ExtractRun, SourceUnavailable
from connectors.landing import PLACEHOLDER, Manifest, records_to_arrow
from connectors.registry import MqttSpec, Source, TableSpec, expand_placeholders
from connectors.source_lock import source_lock
from connectors.state import SourceState
from iochub.settings import Settings

log = logging.getLogger(__name__)

RECENT_IDS = 2000  # per table: covers re-sends within hours, the next-day ones for days
BATCH_MESSAGES = 5000  # micro-batch handed to run.land
# The watermark key under which earlier manifests kept the recent ids (see _Handler).
LEGACY_RECENT_SUFFIX = "#recent_ids"


def broker_address(url: str) -> tuple[str, int]:
    """(host, port) of ``mqtt://host:port`` (or ``host:port``)."""
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


@dataclass
class _Inbox:
    """Messages received by the network loop, waiting for the run to handle them."""

    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    last_at: float = field(default_factory=time.monotonic)
    subscribed: bool = False
    connect_error: str | None = None
    session_present: bool = False


def connect(
    source: Source, url: str, inbox: _Inbox, topics: dict[str, str], client_id: str
) -> mqtt.Client:
    """A connected client with the source's persistent session, subscribed to its tables'
    ``topics`` (placeholders filled in)."""
    spec = source.mqtt
    assert spec is not None, "mqtt sources declare an mqtt: block"
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,  # the broker keeps our subscription and queue between runs
        protocol=mqtt.MQTTv311,
        manual_ack=True,
    )

    def on_connect(
        client: mqtt.Client, _u: object, flags: object, code: object, _p: object
    ) -> None:
        if getattr(code, "is_failure", False):
            inbox.connect_error = str(code)
            return
        inbox.session_present = bool(getattr(flags, "session_present", False))
        subscriptions: list[tuple[str, int]] = [(topic, spec.qos) for topic in topics.values()]
        client.subscribe(subscriptions)

    def on_subscribe(*_args: object) -> None:
        inbox.subscribed = True
        inbox.last_at = time.monotonic()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        inbox.messages.append(message)
        inbox.last_at = time.monotonic()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    host, port = broker_address(url)
    try:
        client.connect(host, port, keepalive=60)
    except OSError as exc:
        raise SourceUnavailable(
            f"{source.name}: MQTT broker {host}:{port} unreachable ({exc}). Is Mosquitto "
            f"running (`systemctl status mosquitto`)? Set {source.connection.env} to "
            "mqtt://host:port of the broker the stations publish to."
        ) from exc
    deadline = time.monotonic() + 10
    while not inbox.subscribed and inbox.connect_error is None:
        client.loop(timeout=0.2)
        if time.monotonic() > deadline:
            client.disconnect()
            raise SourceUnavailable(
                f"{source.name}: MQTT broker {host}:{port} accepted the connection but did "
                "not confirm the subscription within 10 s; check the broker's log and ACLs."
            )
    if inbox.connect_error is not None:
        raise SourceUnavailable(
            f"{source.name}: MQTT broker {host}:{port} refused client {client_id}: "
            f"{inbox.connect_error}; check the broker's authentication and ACLs."
        )
    return client


def committed_ids(
    settings: Settings, source: Source, field: str, limit: int = RECENT_IDS
) -> dict[str, list[str]]:
    """Per table, the ``field`` values of its newest ``limit`` committed messages (oldest first):
    the landed parts and the rows quarantined by the newest committed runs, newest load days
    first. A file counts once its run's manifest exists; file names start with the run id, which
    starts with the run's UTC time, so they sort by age."""
    committed = {path.stem for path in (settings.manifest_dir / source.name).glob("*.json")}
    raw = settings.raw_dir / source.name
    quarantine = settings.quarantine_dir / source.name
    # Per table, per run: the ids found so far, newest load days first.
    per_run: dict[str, dict[str, list[str]]] = {table.name: {} for table in source.tables}
    days = {d.name for folder in (quarantine, *(raw / t for t in per_run)) for d in _days(folder)}
    for day in sorted(days, reverse=True):
        for table, runs in per_run.items():
            for run_id, path in _committed_files(raw / table / day, committed):
                ids = pq.read_table(path, columns=[field]).column(field).to_pylist()
                runs.setdefault(run_id, []).extend(str(i) for i in ids if i is not None)
        # A quarantine file holds every table's rejected rows of its run: read once.
        for run_id, path in _committed_files(quarantine / day, committed):
            rows = pq.read_table(path, columns=["table_name", "raw_content"]).to_pylist()
            for row in rows:
                if row["table_name"] in per_run:
                    value = json.loads(row["raw_content"]).get(field)
                    if value is not None:
                        per_run[row["table_name"]].setdefault(run_id, []).append(str(value))
        if all(sum(map(len, runs.values())) >= limit for runs in per_run.values()):
            break
    return {
        table: [i for run_id in sorted(runs) for i in runs[run_id]][-limit:]
        for table, runs in per_run.items()
    }


def _days(folder: Path) -> list[Path]:
    return list(folder.glob("load_date=*")) if folder.is_dir() else []


def _committed_files(folder: Path, committed: set[str]) -> list[tuple[str, Path]]:
    """(run id, path) of the Parquet files in ``folder`` whose run committed."""
    files = []
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        run_id = path.name.split(".")[0]
        if path.name != PLACEHOLDER and run_id in committed:
            files.append((run_id, path))
    return files


class _Handler:
    """Turns received messages into rows per table, de-duplicated, and lands micro-batches.

    ``recent``: per table the ids of the newest committed messages (:func:`committed_ids`); the
    handler adds the ids of this run's messages to the same lists, which a listener hands to its
    next run's handler."""

    def __init__(
        self,
        run: ExtractRun,
        spec: MqttSpec,
        topics: dict[str, str],
        recent: dict[str, list[str]],
    ) -> None:
        self.run = run
        self.spec = spec
        self.topics = topics
        self.rows: dict[str, list[dict[str, str | None]]] = {}
        self.recent = recent
        self.seen: dict[str, set[str]] = {}
        self.duplicates = 0
        self.latest: dict[str, str] = {}
        for table in run.source.tables:
            ids = recent.setdefault(table.name, [])
            self.seen[table.name] = set(ids)
            # Manifests written before committed_ids carried the ids in the watermarks: not
            # carried on into this run's (the state's copy is what every later run starts from).
            legacy = table.name + LEGACY_RECENT_SUFFIX
            for watermarks in (
                run.state.watermarks,
                run.manifest.watermark_before,
                run.manifest.watermark_after,
            ):
                watermarks.pop(legacy, None)

    def table_for(self, topic: str) -> TableSpec | None:
        for table in self.run.source.tables:
            subscribed = self.topics.get(table.name)
            if subscribed and mqtt.topic_matches_sub(subscribed, topic):
                return table
        return None

    def handle(self, message: mqtt.MQTTMessage) -> None:
        run = self.run
        raw = bytes(message.payload)
        table = self.table_for(message.topic)
        item = f"{message.topic} ({len(raw)} bytes)"
        sha = hashlib.sha256(message.topic.encode() + b"\0" + raw).hexdigest()
        try:
            body = json.loads(raw.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError(f"a JSON {type(body).__name__}, not an object")
        except (UnicodeDecodeError, ValueError) as exc:
            if run.item_seen(sha) or sha in run.manifest.items:
                self.duplicates += 1  # the same broken message re-sent
                return
            run.item_quarantined(sha, item, "invalid_json", str(exc)[:300], raw)
            return
        if table is None:  # a wildcard subscription matched no table: keep it, say why
            run.item_quarantined(sha, item, "unknown_topic", message.topic, raw)
            return
        message_id = body.get(self.spec.message_id_field)
        if message_id is not None:
            key = str(message_id)
            if key in self.seen[table.name]:
                self.duplicates += 1
                return
            self.seen[table.name].add(key)
            self.recent[table.name].append(key)
        # A message without an id still lands: the contract quarantines it (missing_required).
        record: dict[str, str | None] = {}
        for name, value in body.items():
            if name == "payload" and isinstance(value, dict):
                record.update({k: _text(v) for k, v in value.items()})
            else:
                record[name] = _text(value)
        record["_topic"] = message.topic
        record["_run_id"] = run.run_id
        # Counted as an item handed to landing; its row may still be quarantined by the contract.
        run.manifest.items_in += 1
        run.manifest.items_landed += 1
        observed = record.get("observed_at")
        if observed and observed > self.latest.get(table.name, ""):
            self.latest[table.name] = observed
        rows = self.rows.setdefault(table.name, [])
        rows.append(record)
        if len(rows) >= BATCH_MESSAGES:
            self.flush(table)

    def flush(self, table: TableSpec) -> None:
        rows = self.rows.pop(table.name, [])
        if rows:
            self.run.land(table, records_to_arrow(rows))

    def finish(self) -> None:
        for table in self.run.source.tables:
            self.flush(table)
            self.run.advance_watermark(table, self.latest.get(table.name))
            del self.recent[table.name][:-RECENT_IDS]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _pump(client: mqtt.Client, inbox: _Inbox, handler: _Handler) -> tuple[int, int]:
    """One turn of the network loop: what arrived is handled, then acknowledged (once it is
    this run's, see the module docstring). Returns (messages handled, paho's result code)."""
    code = client.loop(timeout=0.1)
    pending, inbox.messages = inbox.messages, []
    for message in pending:
        handler.handle(message)
        client.ack(message.mid, message.qos)
    return len(pending), code


def _leave(client: mqtt.Client) -> None:
    """Flush the acks still in the socket buffer, then disconnect; the session stays."""
    for _ in range(5):
        client.loop(timeout=0.05)
    client.disconnect()


def _topics(source: Source, settings: Settings) -> dict[str, str]:
    return {t.name: expand_placeholders(t.topic, settings) for t in source.tables if t.topic}


def extract_mqtt(run: ExtractRun) -> None:
    """A scheduled run: drain what the broker queued since the last run, then stop."""
    source = run.source
    spec = source.mqtt
    assert spec is not None, "mqtt sources declare an mqtt: block"
    inbox = _Inbox()
    topics = _topics(source, run.settings)
    client_id = expand_placeholders(spec.client_id, run.settings)
    recent = committed_ids(run.settings, source, spec.message_id_field)
    client = connect(source, run.connection(), inbox, topics, client_id)
    handler = _Handler(run, spec, topics, recent)
    received = 0
    started = time.monotonic()
    try:
        while True:
            handled, _ = _pump(client, inbox, handler)
            received += handled
            now = time.monotonic()
            if received >= spec.max_messages or now - started >= spec.max_seconds:
                break
            if not handled and now - inbox.last_at >= spec.idle_seconds:
                break
        handler.finish()
    finally:
        _leave(client)
    log.info(
        "%s: %d message(s) received (%s session), %d duplicate(s) removed",
        source.name,
        received,
        "resumed" if inbox.session_present else "new",
        handler.duplicates,
    )


def follow_mqtt(
    source: Source,
    settings: Settings,
    stop: threading.Event,
    on_commit: Callable[[Manifest], None],
) -> int:
    """A listener: stay subscribed and commit an extract run every ``batch_seconds`` while
    messages arrive, until ``stop`` is set; returns the number of runs committed.

    Each run is an ordinary run (contract, quarantine, manifest), committed
    under the source's lock, which the listener holds for its whole life so no scheduled drain
    competes with it for the session. A lost connection is retried with a growing pause; the
    persistent session keeps what the stations send meanwhile.
    """
    spec = source.mqtt
    assert spec is not None, "mqtt sources declare an mqtt: block"
    purpose = f"MQTT listener of {source.name} (`ioc extract {source.name} --follow`)"
    with source_lock(settings, source.name, purpose, listener=True):
        state = SourceState(settings, source.name)
        recent = committed_ids(settings, source, spec.message_id_field)
        topics = _topics(source, settings)
        client_id = expand_placeholders(spec.client_id, settings)
        url = source.connection.resolve(settings, dict(os.environ))
        inbox = _Inbox()
        client = connect(source, url, inbox, topics, client_id)
        committed = 0
        pause = 1.0
        try:
            while not stop.is_set():
                with ExtractRun(source, settings, state=state) as run:
                    # A copy: the ids of a run that fails to commit must not hide a re-send.
                    handler = _Handler(run, spec, topics, {t: list(i) for t, i in recent.items()})
                    first_at: float | None = None
                    while not stop.is_set():
                        handled, code = _pump(client, inbox, handler)
                        if handled and first_at is None:
                            first_at = time.monotonic()
                        if code not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_AGAIN):
                            pause = _reconnect(client, source, code, pause, stop)
                            continue
                        pause = 1.0
                        if first_at is not None and (
                            time.monotonic() - first_at >= spec.batch_seconds
                        ):
                            break
                    if first_at is None:
                        break  # stopped with nothing received: nothing to commit
                    handler.finish()
                    manifest = run.commit()
                recent = handler.recent
                state.follow(manifest)
                committed += 1
                on_commit(manifest)
        finally:
            _leave(client)
    return committed


def _reconnect(
    client: mqtt.Client, source: Source, code: int, pause: float, stop: threading.Event
) -> float:
    """Wait ``pause`` seconds, then try to connect again; returns the next pause."""
    log.warning(
        "%s: connection to the broker lost (%s); reconnecting in %.0f s",
        source.name,
        mqtt.error_string(code),
        pause,
    )
    stop.wait(pause)
    try:
        client.reconnect()  # on_connect subscribes again; the session kept the queue
    except OSError as exc:
        log.warning("%s: broker still unreachable: %s", source.name, exc)
        return min(pause * 2, 60.0)
    return 1.0
