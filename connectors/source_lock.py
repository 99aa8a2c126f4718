"""One writer per source: the lock an extract run (or a stream listener) holds on its source.

A run starts by sweeping the files of earlier runs that never committed
(``BatchWriter.sweep_uncommitted``); a second run of the same source started meanwhile — an
operator's ``ioc extract`` beside a scheduled DAG run, a DAG run beside the MQTT listener —
would sweep the first one's parts before they commit, and both would commit state from the same
starting point. Airflow's one-slot pool per source prevents it inside Airflow only, so the lake
itself carries the lock: an exclusive ``flock`` on ``lake/_locks/<source>.lock``, which the
kernel releases when its holder dies (no stale lock to clean after a kill -9). The file says who
holds it, for the refusal's message.

The lock is re-entrant within a thread: a listener holds it for its whole life and commits one
extract run after another under it. Another thread of the same process is refused like another
process (each takes its own descriptor, and ``flock`` locks belong to descriptors).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from iochub.settings import Settings

# (lock file, thread) -> (descriptor, depth): the locks this process's threads hold.
_held: dict[tuple[Path, int], tuple[int, int]] = {}


class SourceBusy(Exception):
    """Another process is extracting this source; the message names it, ``holder`` says who
    (pid, purpose, since, listener)."""

    def __init__(self, message: str, holder: dict[str, object]) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(settings: Settings, source: str) -> Path:
    return settings.lake_dir / "_locks" / f"{source}.lock"


def holder(settings: Settings, source: str) -> dict[str, object] | None:
    """Who holds ``source``'s lock (pid, purpose, since), or None when nobody does."""
    path = lock_path(settings, source)
    if (path, threading.get_ident()) in _held:
        return _describe(path)
    if not path.exists():
        return None
    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return _describe(path)
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return None
    finally:
        os.close(descriptor)


def _describe(path: Path) -> dict[str, object]:
    try:
        described: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        described = {}
    return described


@contextmanager
def source_lock(
    settings: Settings, source: str, purpose: str, listener: bool = False
) -> Iterator[None]:
    """Hold ``source`` for this process while the block runs; raise ``SourceBusy`` at once when
    another process holds it (waiting would only queue a second copy of the same work).
    ``listener``: the holder lands the source continuously (the demo clock does not trigger
    its scheduled runs)."""
    path = lock_path(settings, source)
    key = (path, threading.get_ident())
    if key in _held:
        descriptor, depth = _held[key]
        _held[key] = (descriptor, depth + 1)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            other = _describe(path)
            raise SourceBusy(
                f"{source} is being extracted by another process (pid {other.get('pid', '?')}: "
                f"{other.get('purpose', 'unknown')}, since {other.get('since', '?')}); what it "
                "lands is what this run would have landed. Wait for it to end, or stop it "
                "(a listener: `ioc demo down` or `kill <pid>`) before extracting by hand.",
                other,
            ) from None
        about = {
            "pid": os.getpid(),
            "purpose": purpose,
            "since": time.strftime("%FT%T%z"),
            "listener": listener,
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(about).encode(), 0)
        _held[key] = (descriptor, 1)
    try:
        yield
    finally:
        descriptor, depth = _held[key]
        if depth > 1:
            _held[key] = (descriptor, depth - 1)
        else:
            del _held[key]
            os.close(descriptor)  # closing the last descriptor releases the flock
