"""The lake's copy into PostgreSQL (the second adapter's input), streamed a batch at a time.

A lake table of 250 rows in three landed parts, one with a column the others lack and
mixed-case names, is copied with a batch of 100 rows: every row arrives once, names lower-cased,
the missing column empty; copying again replaces the table rather than adding to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from iochub import lake_meta
from iochub.settings import Settings
from tests.pg_scratch import PG_SERVER
from tests.pg_scratch import scratch_database as scratch

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_database() -> Iterator[str]:
    with scratch(f"iochub_lake_copy_{os.getpid()}") as name:
        yield f"{PG_SERVER}/{name}"


def _part(settings: Settings, day: str, first: int, rows: int, with_note: bool) -> None:
    folder = settings.raw_dir / "agri_dk01" / "dang_ky" / f"load_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    columns = {
        "MaDangKy": pa.array([f"DK-{n:04d}" for n in range(first, first + rows)]),
        "DienTich": pa.array([n / 4 for n in range(first, first + rows)]),
        "_run_id": pa.array([f"run-{day}"] * rows),
    }
    if with_note:
        columns["GhiChu"] = pa.array([f"ghi chú {n}" for n in range(first, first + rows)])
    pq.write_table(pa.table(columns), folder / "part-0.parquet")


def test_the_copy_streams_every_row_once(
    home: Settings, scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lake_meta, "COPY_BATCH_ROWS", 100)
    _part(home, "2025-09-01", 0, 120, with_note=False)
    _part(home, "2025-09-02", 120, 90, with_note=True)
    _part(home, "2025-09-03", 210, 40, with_note=False)

    for _ in range(2):  # a second copy replaces the first
        loaded = lake_meta.load_lake_into_postgres(home, scratch_database)
        assert loaded == {"agri_dk01.dang_ky": 250}

    with psycopg.connect(scratch_database) as pg:
        row = pg.execute(
            "select count(*), count(distinct madangky), sum(dientich), count(ghichu), "
            "count(distinct load_date) from agri_dk01.dang_ky"
        ).fetchone()
    assert row == (250, 250, sum(n / 4 for n in range(250)), 90, 3)
