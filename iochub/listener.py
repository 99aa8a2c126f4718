"""``ioc extract <source> --follow``: a streamed source landed as it arrives, and Airflow told.

The extract stage's scheduled runs drain a broker once an hour; an operations room watching
salinity wants a reading in the warehouse minutes after the station sent it. The listener keeps
the source's MQTT session open and commits an ordinary extract run every ``batch_seconds``
(connectors.kinds.mqtt.follow_mqtt). After a run lands rows it records an Airflow Asset event
for each table that grew (``POST /api/v2/assets/events``), as an extract task's outlets would,
so ``build_warehouse`` publishes them; at most once per ``notify_seconds``, because each event
starts a build and a build on two cores takes tens of seconds. When Airflow does not answer the
rows stay in the lake (the next build of any kind takes them) and the listener says so once.

``make demo`` starts one listener per MQTT source beside Airflow (``ioc demo up``); while it
runs, the source's DAG runs skip (the source's lock is held) and the demo clock does not trigger
them. A listener started while a scheduled run drains the source (a just-started Airflow runs the
hour it missed) waits for that run to end instead of giving up: it found the lock taken and
exited, and the demo's stream then waited for the next hourly drain.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import httpx

from connectors.landing import Manifest
from connectors.registry import Source
from connectors.source_lock import SourceBusy
from iochub.assets import asset_name
from iochub.settings import Settings
from iochub.ticker import AirflowApi

log = logging.getLogger(__name__)

# How often a listener tries again for a source a scheduled run holds (a drain ends within its
# max_seconds).
LOCK_RETRY_SECONDS = 2.0


@dataclass
class AssetNotifier:
    """The tables landed since Airflow was last told, told at most once per ``every`` seconds."""

    api: AirflowApi | None
    every: float
    pending: dict[str, str] = field(default_factory=dict)  # asset name -> last run id
    sent_at: float = field(default=float("-inf"))
    warned: bool = False

    def landed(self, source: str, manifest: Manifest) -> None:
        for table, rows in manifest.rows_landed.items():
            if rows:
                self.pending[asset_name(source, table)] = manifest.run_id
        if time.monotonic() - self.sent_at >= self.every:
            self.send()

    def send(self) -> None:
        if self.api is None or not self.pending:
            return
        try:
            for name, run_id in list(self.pending.items()):
                self.api.asset_event(name, {"run_id": run_id, "by": "listener"})
                del self.pending[name]
        except (httpx.HTTPError, LookupError) as exc:
            # The rows are in the lake either way; the next build (any source's, or the
            # 6-hourly one) takes them. Said once, not at every batch.
            if not self.warned:
                log.warning("could not tell Airflow at %s: %s", self.api.base_url, exc)
                self.warned = True
            return
        self.sent_at = time.monotonic()
        self.warned = False


def follow(
    settings: Settings,
    source: Source,
    api: AirflowApi | None,
    notify_seconds: float,
    say: Callable[[str], None],
    stop: threading.Event | None = None,
) -> int:
    """Land ``source`` as it arrives until SIGTERM/SIGINT (or ``stop``); returns runs committed."""
    from connectors.kinds.mqtt import follow_mqtt

    if source.kind != "mqtt":
        raise ValueError(
            f"{source.name} is a {source.kind} source: only mqtt sources can be followed; "
            f"run `ioc extract {source.name}` (or its DAG) instead"
        )
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():

        def _stop(signum: int, _frame: FrameType | None) -> None:
            say(f"{source.name}: {signal.Signals(signum).name}: committing what was received")
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    notifier = AssetNotifier(api, notify_seconds)
    assert source.mqtt is not None

    def committed(manifest: Manifest) -> None:
        say(
            f"{source.name}: run {manifest.run_id}: landed {manifest.rows_landed}, "
            f"quarantined {manifest.rows_quarantined}"
        )
        notifier.landed(source.name, manifest)

    say(
        f"{source.name}: listening; a run is committed {source.mqtt.batch_seconds:.0f} s after "
        f"the first message of each batch, Airflow told at most every {notify_seconds:.0f} s"
    )
    while True:
        try:
            runs = follow_mqtt(source, settings, stop, committed)
            break
        except SourceBusy as busy:
            # Another listener is a second copy of this one: that is the operator's to resolve.
            if busy.holder.get("listener") or stop.is_set():
                raise
            say(
                f"{source.name}: held by pid {busy.holder.get('pid', '?')} "
                f"({busy.holder.get('purpose', 'an extract run')}): listening once it ends"
            )
            stop.wait(LOCK_RETRY_SECONDS)
    notifier.send()
    return runs
