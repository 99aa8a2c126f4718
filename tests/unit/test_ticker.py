"""The demo clock triggers a source's DAG on the simulated days its schedule fires."""

from datetime import date

import pytest

from iochub.ticker import due_on

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
