"""The demo clock triggers a source's DAG on the simulated days its schedule fires, unless a
listener lands the source continuously."""

from datetime import date
from pathlib import Path

import pytest

from connectors.source_lock import source_lock
from iochub.settings import get_settings
from iochub.ticker import due_on, due_sources

SUNDAY, MONDAY = date(2025, 11, 2), date(2025, 11, 3)


@pytest.mark.parametrize(
    ("schedule", "day", "due"),
    [
        ("@daily", MONDAY, True),
        ("@hourly", SUNDAY, True),
        ("@weekly", SUNDAY, True),  # Airflow's @weekly: Sunday midnight
        ("@weekly", MONDAY, False),
        ("@monthly", date(2025, 11, 1), True),
        ("@monthly", MONDAY, False),
        ("30 6 * * 1-5", MONDAY, True),
        ("30 6 * * 1-5", SUNDAY, False),
        ("0 23 * * *", SUNDAY, True),  # late in the day still counts
        (None, MONDAY, False),
        ("@once", MONDAY, False),
    ],
)
def test_due_on(schedule: str | None, day: date, due: bool) -> None:
    assert due_on(schedule, day) is due


def test_a_source_with_a_listener_is_not_triggered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    due = due_sources(settings, MONDAY)
    assert "iot_mqtt" in due and "health_xml130" in due
    # A hand-run extract holding the source does not stop the clock; a listener does.
    with source_lock(settings, "iot_mqtt", "a hand-run extract"):
        assert "iot_mqtt" in due_sources(settings, MONDAY)
    with source_lock(settings, "iot_mqtt", "the listener", listener=True):
        assert due_sources(settings, MONDAY) == [name for name in due if name != "iot_mqtt"]
