"""One writer per source (connectors.source_lock): a second process is refused at once and
sweeps nothing of the first one's uncommitted parts; a killed holder leaves no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.extract import run_extract
from connectors.source_lock import SourceBusy, holder, source_lock
from iochub.settings import Settings, get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    return get_settings()


@pytest.fixture
def other_process(home: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another process holding iot_csv_backfill's lock until it is killed."""
    code = textwrap.dedent(
        """
        import sys, time
        from connectors.source_lock import source_lock
        from iochub.settings import get_settings
        with source_lock(get_settings(), "iot_csv_backfill", "a test's stand-in run"):
            print("held", flush=True)
            time.sleep(600)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    yield child
    child.kill()
    child.wait()


def test_a_second_process_is_refused_and_sweeps_nothing(
    home: Settings, other_process: subprocess.Popen[str]
) -> None:
    # The other process's part, written but not yet committed (no manifest names its run).
    part = home.raw_dir / "iot_csv_backfill" / "water_quality" / ".20251201T000000Z-0abc.parquet"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PAR1 in flight")
    held = holder(home, "iot_csv_backfill")
    assert held is not None
    assert held["pid"] == other_process.pid and held["purpose"] == "a test's stand-in run"
    assert held["listener"] is False
    with pytest.raises(SourceBusy, match=f"pid {other_process.pid}: a test's stand-in run"):
        run_extract("iot_csv_backfill", home)
    assert part.exists(), "the refused run swept the holder's uncommitted part"
    # Other sources are not held.
    assert holder(home, "iot_mqtt") is None


def test_a_killed_holder_leaves_no_stale_lock(
    home: Settings, other_process: subprocess.Popen[str]
) -> None:
    with pytest.raises(SourceBusy), source_lock(home, "iot_csv_backfill", "second"):
        pass
    other_process.send_signal(signal.SIGKILL)
    other_process.wait()
    assert holder(home, "iot_csv_backfill") is None
    with source_lock(home, "iot_csv_backfill", "after the kill"):
        held = holder(home, "iot_csv_backfill")
        assert held is not None and held["purpose"] == "after the kill"
        # Re-entrant in the holding thread: a listener commits run after run under its lock.
        with source_lock(home, "iot_csv_backfill", "nested"):
            pass
        assert holder(home, "iot_csv_backfill") is not None
    assert holder(home, "iot_csv_backfill") is None
