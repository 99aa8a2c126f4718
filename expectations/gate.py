"""The publish gate: runs the Great Expectations checkpoints on the build warehouse's marts.

Each mart is read from ``build.duckdb`` into a pandas DataFrame and validated by a GX checkpoint
(GX's SQL datasource returns wrong metrics on DuckDB, see DESIGN.md). Every expectation's result
is written to ``meta.gate_result`` in the build warehouse, so the data-health dashboard shows it
once published; any failure makes :func:`run_publish_gate` report failure and publish is refused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from expectations.suites import INVENTORY_TABLE, PUBLISH_SUITES, WAREHOUSE_INVENTORY, MartSuite
from iochub.publish import PUBLISHED_SCHEMAS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpectationOutcome:
    checkpoint: str
    table: str
    expectation: str
    column: str | None
    success: bool
    observed: str


@dataclass(frozen=True)
class GateResult:
    run_id: str
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return all(outcome.success for outcome in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]


class GateFailed(Exception):
    """The marts did not pass the publish gate; the last good serving warehouse stays."""

    def __init__(self, result: GateResult) -> None:
        lines = [
            f"{f.table}: {f.expectation}({f.column or ''}) observed {f.observed}"
            for f in result.failures
        ]
        super().__init__("publish gate failed:\n  " + "\n  ".join(lines))
        self.result = result


def validate_dataframe(suite: MartSuite, frame: pd.DataFrame) -> list[ExpectationOutcome]:
    """Run ``suite`` as a GX checkpoint over ``frame`` (an ephemeral, file-less GX context)."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas(name="build_warehouse")
        .add_dataframe_asset(name=suite.name)
        .add_batch_definition_whole_dataframe(name="whole_mart")
    )
    expectation_suite = context.suites.add(gx.ExpectationSuite(name=suite.name))
    for expectation in suite.expectations():
        expectation_suite.add_expectation(expectation)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=expectation_suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"publish_gate__{suite.name}",
            validation_definitions=[validation],
            result_format="SUMMARY",
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    outcomes = []
    for run_result in result.run_results.values():
        for item in run_result.results:
            config = item.expectation_config
            kwargs = config.kwargs if config is not None else {}
            observed = item.result.get("observed_value", item.result.get("unexpected_count"))
            outcomes.append(
                ExpectationOutcome(
                    checkpoint=checkpoint.name,
                    table=suite.table,
                    expectation=config.type if config is not None else "unknown",
                    column=kwargs.get("column") or kwargs.get("column_A"),
                    success=bool(item.success),
                    observed=json.dumps(observed, default=str),
                )
            )
    return outcomes


def _table_shapes(db: Path) -> dict[str, tuple[int, set[str]]]:
    """Rows and columns of every published table of a warehouse (not the gate's own record)."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in (?, ?, ?) "
            "and table_name <> 'gate_result' order by 1",
            list(PUBLISHED_SCHEMAS),
        ).fetchall()
        shapes = {}
        for (table,) in tables:
            rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
            described = con.execute(f"select * from {table} limit 0").description or []
            columns = {str(column[0]) for column in described}
            shapes[table] = (int(rows), columns)
    return shapes


def inventory_frame(build_db: Path, serving_db: Path | None) -> pd.DataFrame:
    """One row per table published now or last time: rows now and then, their ratio, and how
    many of last time's columns are gone."""
    now = _table_shapes(build_db)
    before = _table_shapes(serving_db) if serving_db is not None and serving_db.exists() else {}
    rows = []
    for table in sorted(now.keys() | before.keys()):
        rows_now, columns_now = now.get(table, (None, set()))
        rows_before, columns_before = before.get(table, (None, set()))
        rows.append(
            {
                "table_name": table,
                "rows": rows_now,
                "last_rows": rows_before,
                "row_ratio": (
                    rows_now / rows_before if rows_now is not None and rows_before else None
                ),
                "columns_lost": len(columns_before - columns_now) if table in now else 0,
            }
        )
    return pd.DataFrame(rows).astype({"rows": "Float64", "last_rows": "Float64"})


def run_publish_gate(
    build_db: Path,
    run_id: str,
    suites: list[MartSuite] | None = None,
    serving_db: Path | None = None,
) -> GateResult:
    """Validate every mart suite, and the warehouse's inventory against the last published one
    (``serving_db``), record the outcomes in ``meta.gate_result``, return them."""
    chosen = suites or [*PUBLISH_SUITES, WAREHOUSE_INVENTORY]
    outcomes: list[ExpectationOutcome] = []
    with duckdb.connect(str(build_db), read_only=True) as con:
        frames = {
            s.table: con.sql(f"select * from {s.table}").df()
            for s in chosen
            if s.table != INVENTORY_TABLE
        }
    if any(s.table == INVENTORY_TABLE for s in chosen):
        frames[INVENTORY_TABLE] = inventory_frame(build_db, serving_db)
    for suite in chosen:
        log.info("gate: validating %s (%d rows)", suite.table, len(frames[suite.table]))
        outcomes.extend(validate_dataframe(suite, frames[suite.table]))
    result = GateResult(run_id=run_id, outcomes=outcomes)
    _record(build_db, result)
    return result


def _record(build_db: Path, result: GateResult) -> None:
    checked_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            result.run_id,
            checked_at,
            o.checkpoint,
            o.table,
            o.expectation,
            o.column,
            o.success,
            o.observed,
        )
        for o in result.outcomes
    ]
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema if not exists meta")
        con.execute(
            """
            create table if not exists meta.gate_result (
                run_id varchar, checked_at timestamp, checkpoint varchar, table_name varchar,
                expectation varchar, column_name varchar, success boolean, observed varchar
            )
            """
        )
        con.executemany("insert into meta.gate_result values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
