"""Publish rewrites only what changed since the last publish, and serving still equals the build's
published schemas, swapped in whole under readers of the old file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from iochub.duckdb_connect import connect_duckdb
from iochub.publish import PUBLISHED_SCHEMAS, publish, publish_changes

SMALL = ("marts.dim_facility", "meta.gate_result", "reference.ref_drug", "geo.commune_zone")


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A build warehouse: a larger fact, small tables in every published schema, and staging."""
    path = tmp_path / "build.duckdb"
    with connect_duckdb(path) as con:
        for schema in (*PUBLISHED_SCHEMAS, "staging"):
            con.execute(f"create schema {schema}")
        con.execute(
            "create table marts.fct_drug_line as select i as line_id, 'D' || (i % 97) as drug, "
            "(i % 13) * 1.5 as cost from range(50000) r(i)"
        )
        for table in SMALL:
            con.execute(
                f"create table {table} as select i as id, 'v' || i as label from range(5) r(i)"
            )
        con.execute("create table staging.stg_claim as select 1 as claim_id")
        con.execute("create view staging.stg_lake as select 2 as claim_id")
    return path


def _execute(db: Path, *statements: str) -> None:
    with connect_duckdb(db) as con:
        for statement in statements:
            con.execute(statement)


def _contents(
    db: Path, schemas: tuple[str, ...] | None = None
) -> dict[str, tuple[list[Any], list[Any]]]:
    """Every table of ``db`` (of ``schemas`` only, if given): its columns and all its rows."""
    with connect_duckdb(db, read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": (
                con.execute(
                    "select column_name, data_type from duckdb_columns() "
                    "where schema_name = ? and table_name = ? order by column_index",
                    [schema, table],
                ).fetchall(),
                con.execute(f"select * from {schema}.{table} order by all").fetchall(),
            )
            for schema, table in tables
            if schemas is None or schema in schemas
        }


def _free_share(db: Path) -> float:
    with connect_duckdb(db, read_only=True) as con:
        free, total = con.execute(
            "select free_blocks, total_blocks from pragma_database_size()"
        ).fetchall()[0]
    return float(free / total)


def test_the_first_publish_copies_the_published_schemas_of_the_build(
    build: Path, tmp_path: Path
) -> None:
    serving = tmp_path / "serving.duckdb"
    result = publish_changes(build, serving)
    assert result.full_copy == "first publish"
    assert result.counts == {"marts.fct_drug_line": 50000, **dict.fromkeys(SMALL, 5)}
    assert set(result.copied) == set(result.counts) and result.kept == ()
    published = _contents(serving)
    assert published == _contents(build, PUBLISHED_SCHEMAS)
    assert {name.split(".")[0] for name in published} == set(PUBLISHED_SCHEMAS)  # no staging
    assert not list(tmp_path.glob(".serving.*"))  # no temporary file left


def test_a_second_publish_rewrites_only_the_changed_table(
    build: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    serving = tmp_path / "serving.duckdb"
    first = publish(build, serving)
    _execute(build, "update reference.ref_drug set label = 'changed' where id = 3")
    with caplog.at_level(logging.INFO, logger="iochub.publish"):
        result = publish_changes(build, serving)
    assert result.full_copy is None
    assert result.copied == ("reference.ref_drug",)
    assert set(result.kept) == set(first) - {"reference.ref_drug"}
    assert result.dropped == ()
    assert result.counts == first
    assert _contents(serving) == _contents(build, PUBLISHED_SCHEMAS)
    assert "copied 1 ['reference.ref_drug'], kept 4, dropped 0" in caplog.text
    assert publish_changes(build, serving).copied == ()  # nothing changed since


@pytest.mark.parametrize(
    "change",
    [
        # the same count and the same XOR of row hashes: duplicates must not cancel
        "create or replace table marts.dim_facility as "
        "select * from (values (1, 'a'), (1, 'a'), (2, 'b'), (7, 'x'), (7, 'x')) t(id, label)",
        # the same rows and hashes: only a column's type or name differ
        "alter table geo.commune_zone alter id type integer",
        "alter table meta.gate_result rename label to name",
    ],
)
def test_changes_the_row_hashes_do_not_show_are_still_published(
    build: Path, tmp_path: Path, change: str
) -> None:
    serving = tmp_path / "serving.duckdb"
    _execute(
        build,
        "create or replace table marts.dim_facility as "
        "select * from (values (2, 'b'), (2, 'b'), (2, 'b'), (3, 'c'), (3, 'c')) t(id, label)",
    )
    publish(build, serving)
    _execute(build, change)
    assert len(publish_changes(build, serving).copied) == 1
    assert _contents(serving) == _contents(build, PUBLISHED_SCHEMAS)


def test_a_table_dropped_from_the_build_leaves_serving(build: Path, tmp_path: Path) -> None:
    serving = tmp_path / "serving.duckdb"
    publish(build, serving)
    _execute(build, "drop table geo.commune_zone", "create table marts.dim_new as select 1 as id")
    result = publish_changes(build, serving)
    assert (result.dropped, result.copied) == (("geo.commune_zone",), ("marts.dim_new",))
    assert "geo.commune_zone" not in result.counts
    assert _contents(serving) == _contents(build, PUBLISHED_SCHEMAS)
    with connect_duckdb(serving, read_only=True) as con:
        schemas = con.execute("select schema_name from duckdb_schemas() where not internal")
        assert "geo" not in {row[0] for row in schemas.fetchall()}  # as a full copy would


def test_a_reader_of_the_old_file_keeps_reading_the_old_warehouse(
    build: Path, tmp_path: Path
) -> None:
    serving = tmp_path / "serving.duckdb"
    publish(build, serving)
    before = _contents(serving)
    _execute(
        build,
        "update marts.fct_drug_line set cost = -1",
        "drop table reference.ref_drug",
    )
    with connect_duckdb(serving, read_only=True) as reader:
        # the reader has opened the old file but read none of the fact's blocks yet
        assert reader.execute("select count(*) from marts.dim_facility").fetchall() == [(5,)]
        assert publish_changes(build, serving).copied == ("marts.fct_drug_line",)
        assert reader.execute(
            "select count(*), min(cost), max(cost) from marts.fct_drug_line"
        ).fetchall() == [(50000, 0.0, 18.0)]
        assert (
            reader.execute("select * from reference.ref_drug order by all").fetchall()
            == (before["reference.ref_drug"][1])
        )
    assert _contents(serving) == _contents(build, PUBLISHED_SCHEMAS)


def test_a_serving_file_mostly_free_is_compacted_by_a_full_copy(
    build: Path, tmp_path: Path
) -> None:
    serving = tmp_path / "serving.duckdb"
    publish(build, serving)
    # a large table written before a small one, then dropped: its blocks stay free inside the file
    _execute(serving, "create table marts.junk as select i, hash(i) as j from range(3000000) r(i)")
    _execute(serving, "create table marts.after_junk as select 1 as id", "checkpoint")
    _execute(serving, "drop table marts.junk", "checkpoint")
    assert _free_share(serving) > 0.5
    result = publish_changes(build, serving)
    assert result.full_copy == "compaction"
    assert _contents(serving) == _contents(build, PUBLISHED_SCHEMAS)
    assert _free_share(serving) < 0.1


def test_an_unreadable_serving_file_is_replaced_by_a_full_copy(build: Path, tmp_path: Path) -> None:
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"not a database" * 1000)
    result = publish_changes(build, serving)
    assert result.full_copy == "previous serving file unreadable"
    assert _contents(serving) == _contents(build, PUBLISHED_SCHEMAS)


def test_a_build_without_published_tables_is_refused(tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"
    _execute(build, "create schema staging", "create table staging.stg as select 1 as x")
    with pytest.raises(RuntimeError, match="no published tables"):
        publish(build, tmp_path / "serving.duckdb")
    assert not (tmp_path / "serving.duckdb").exists()
