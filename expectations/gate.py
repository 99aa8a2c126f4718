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

from expectations.suites import PUBLISH_SUITES, MartSuite

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


def run_publish_gate(
    build_db: Path, run_id: str, suites: list[MartSuite] | None = None
) -> GateResult:
    """Validate every mart suite, record the outcomes in ``meta.gate_result``, return them."""
    chosen = suites or PUBLISH_SUITES
    outcomes: list[ExpectationOutcome] = []
    with duckdb.connect(str(build_db), read_only=True) as con:
        frames = {s.table: con.sql(f"select * from {s.table}").df() for s in chosen}
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
