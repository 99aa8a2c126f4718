"""Replays the IoT stations' message log to an MQTT broker, the way the stations published it.

``python -m simulator.iot.publisher --sim-dir DIR [--host H] [--port P] [--speed N] [--loop]``
publishes every line of ``DIR/iot/messages/*.jsonl`` in order (QoS 1) on
``<root>/water/<station>`` or ``<root>/insect/<station>`` (root ``iochub/<database prefix>``,
``iochub/sim`` for the demo, or ``--topic-root``), sleeping between messages for
the observed-time gap divided by ``--speed`` (0: as fast as possible). ``--once YYYY-MM-DD``
publishes that one day and exits (tests). If the broker cannot be reached it says so and exits
with status 2; the JSONL files remain the fallback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from iochub.settings import get_settings

TOPIC_PREFIX = "iochub/sim"


def topic(message: dict[str, object], root: str = TOPIC_PREFIX) -> str:
    return f"{root}/{message['kind']}/{message['station_code']}"


def message_files(sim_dir: Path, day: str | None) -> list[Path]:
    folder = sim_dir / "iot" / "messages"
    if not folder.is_dir():
        raise FileNotFoundError(f"no IoT messages in {folder}: run `ioc sim generate` first")
    if day is not None:
        path = folder / f"{day}.jsonl"
        if not path.exists():
            raise FileNotFoundError(f"no messages for {day} in {folder}")
        return [path]
    return sorted(folder.glob("*.jsonl"))


def lines(files: list[Path]) -> Iterator[str]:
    for path in files:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield line.rstrip("\n")


def connect(host: str, port: int) -> mqtt.Client:
    # One id per process: two provinces served at once (a demo and a test session) must not
    # take each other's connection over, as MQTT does for a repeated client id.
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"iochub-sim-iot-publisher-{os.getpid()}"
    )
    try:
        client.connect(host, port, keepalive=60)
    except OSError as exc:
        raise ConnectionError(
            f"MQTT broker {host}:{port} unreachable ({exc}); is Mosquitto running? "
            "The messages stay available as JSON Lines under <sim>/iot/messages/."
        ) from exc
    client.loop_start()
    return client


def publish(client: mqtt.Client, files: list[Path], speed: float, root: str = TOPIC_PREFIX) -> int:
    """Publish every message of ``files``; returns how many were acknowledged."""
    pending = []
    previous: datetime | None = None
    for line in lines(files):
        message = json.loads(line)
        observed = datetime.fromisoformat(str(message["observed_at"]))
        if speed > 0 and previous is not None and observed > previous:
            # Late messages carry an old observed_at: they go out at once, without waiting.
            time.sleep((observed - previous).total_seconds() / speed)
        previous = max(previous, observed) if previous else observed
        pending.append(client.publish(topic(message, root), line.encode("utf-8"), qos=1))
    for info in pending:
        info.wait_for_publish(timeout=30)
    return sum(1 for info in pending if info.is_published())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sim-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--speed", type=float, default=0.0, help="observed seconds per second")
    parser.add_argument("--once", metavar="YYYY-MM-DD", help="publish this day, then exit")
    parser.add_argument("--loop", action="store_true", help="start over after the last day")
    parser.add_argument(
        "--topic-root",
        default=get_settings().sim_topic_root,
        help="topics are <root>/<kind>/<station> (default: iochub/<database prefix>)",
    )
    args = parser.parse_args(argv)
    try:
        files = message_files(args.sim_dir, args.once)
        client = connect(args.host, args.port)
    except (FileNotFoundError, ConnectionError) as exc:
        print(f"iot publisher: {exc}", file=sys.stderr)
        return 2
    try:
        while True:
            sent = publish(client, files, args.speed, args.topic_root)
            print(f"iot publisher: {sent} messages published", flush=True)
            if args.once or not args.loop:
                return 0
    finally:
        client.loop_stop()
        client.disconnect()


if __name__ == "__main__":
    sys.exit(main())
