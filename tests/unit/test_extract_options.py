"""What an extract DAG run reads: new rows, or a re-read from a date (backfill)."""

from datetime import UTC, datetime

from iochub.assets import extract_options

START = datetime(2025, 9, 1, tzinfo=UTC)


def test_scheduled_and_manual_runs_read_from_the_watermark() -> None:
    assert extract_options("scheduled", START, None).since is None
    assert extract_options("manual", START, None).since is None
    assert extract_options("asset_triggered", None, None).since is None


def test_since_param_and_airflow_backfill_runs_re_read() -> None:
    assert extract_options("manual", START, "2025-08-15").since == "2025-08-15"
    assert extract_options("backfill", START, None).since == "2025-09-01"
    assert extract_options("backfill", START, "2025-08-15").since == "2025-08-15"
    assert not extract_options("backfill", START, None).full_refresh
