"""The publish gate: runs the Great Expectations checkpoints on the build warehouse's marts.

Every mart of the dbt project gets a suite (``expectations.suites``: generated from its dbt
contract and its rules), and so does each map layer of schema ``geo`` (geo.layers). The columns
a suite needs are read from ``build.duckdb`` into a pandas DataFrame, with reference checks
computed by DuckDB, and validated by a GX checkpoint (GX's SQL datasource returns wrong metrics
on DuckDB, see DESIGN.md). Every expectation's result is written to ``meta.gate_result`` in
the build warehouse, so the data-health dashboard shows it once published; any failure makes
:func:`run_publish_gate` report failure and publish is refused.

A large mart is never read whole into memory (:func:`split_suite`): its expectations that judge
each row on its own (not null, in a set, within a range, a pattern, one column after another,
a key found in its dimension) read its rows about a million at a time
(:data:`VECTORS_PER_FRAME`), and after a build of new runs only the rows the published warehouse
does not hold; the rest (row counts, uniqueness, the latest value, a share of rows) read the
whole mart's few columns they use. A new day at scale 1 adds thousands of rows to marts of
millions: only those are validated again, and a full validation of 16 million drug lines holds
one frame of them at a time.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Literal, cast

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.data_context import AbstractDataContext
from great_expectations.datasource.fluent import PandasDatasource
from great_expectations.expectations import Expectation
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    ColumnPairMapExpectation,
    MulticolumnMapExpectation,
)

from expectations.contract import mart_models, read_mart_contracts
from expectations.suites import (
    GEO_SUITES,
    INVENTORY_TABLE,
    MART_RULES,
    WAREHOUSE_INVENTORY,
    MartRules,
    MartSuite,
    contract_expectations,
)
from iochub.duckdb_connect import connect_duckdb
from iochub.publish import PUBLISHED_SCHEMAS, changed_tables
from iochub.web_assets import AssetsMissing, localise

MARTS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts"
# A mart of at least this many rows is validated in parts (split_suite): below it, reading the
# mart whole costs less than finding its new rows, and a second checkpoint per mart would cost
# more than it saves (measured: a checkpoint of one expectation 26 ms, of ten 137 ms, on a
# 100-row frame).
LARGE_MART_ROWS = 100_000
# Rows of a large mart in memory at once for its row-by-row expectations, in DuckDB's vectors of
# 2,048 rows: about a million.
VECTORS_PER_FRAME = 500

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


def gate_context() -> AbstractDataContext:
    """An ephemeral (file-less) GX context: suites are code, results go to ``meta.gate_result``
    and to the Data Docs the gate writes."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # A bar per metric, per suite, fills the task log; the gate logs one line per mart.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.data_sources.add_pandas(name="build_warehouse")
    return context


def validate_dataframe(
    suite: MartSuite,
    frame: pd.DataFrame,
    context: AbstractDataContext | None = None,
    run_name: str | None = None,
    result_format: Literal["BOOLEAN_ONLY", "BASIC", "SUMMARY"] = "SUMMARY",
) -> list[ExpectationOutcome]:
    """Run ``suite`` as a GX checkpoint over ``frame`` in ``context`` (a new one if none); the
    result carries ``run_name`` (the build's run id) in Data Docs. ``BASIC`` results (counts
    and observed values, no unexpected-value lists) are enough where no Data Docs are made;
    ``BOOLEAN_ONLY`` says only what passed (observed values are empty)."""
    from great_expectations.core.run_identifier import RunIdentifier

    context = context or gate_context()
    source = cast(PandasDatasource, context.data_sources.get("build_warehouse"))
    batch = source.add_dataframe_asset(name=suite.name).add_batch_definition_whole_dataframe(
        name="whole_mart"
    )
    # Given whole: a suite added to the context first re-serialises itself into the store on
    # every add_expectation (12 % of a gate run's time, profiled over 605 expectations).
    expectation_suite = context.suites.add(
        gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations()))
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=expectation_suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"publish_gate__{suite.name}",
            validation_definitions=[validation],
            result_format=result_format,
        )
    )
    result = checkpoint.run(
        batch_parameters={"dataframe": frame},
        run_id=RunIdentifier(run_name=run_name) if run_name else None,
    )
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


def _unique(expectations: list[Expectation]) -> list[Expectation]:
    """Drop repeats (a hand-written expectation the contract also generates)."""
    seen: set[str] = set()
    kept = []
    for expectation in expectations:
        key = expectation.expectation_type + json.dumps(
            expectation.configuration.kwargs, sort_keys=True, default=str
        )
        if key not in seen:
            seen.add(key)
            kept.append(expectation)
    return kept


def _columns_used(expectations: list[Expectation]) -> set[str]:
    return {
        str(value)
        for expectation in expectations
        for name, value in expectation.configuration.kwargs.items()
        if name in ("column", "column_A", "column_B") and value is not None
    }


def mart_suites(
    build_db: Path,
    serving_db: Path | None = None,
    only: set[str] | None = None,
    marts_dir: Path = MARTS_DIR,
) -> list[MartSuite]:
    """A suite for every mart model built in ``build_db`` (or those named in ``only``).

    A mart the build did not produce gets no suite here: the inventory suite reports it."""
    contracts = read_mart_contracts(marts_dir)
    with connect_duckdb(str(build_db), read_only=True) as con:
        located = con.execute(
            "select table_name, schema_name || '.' || table_name from duckdb_tables() "
            f"where schema_name in ({_placeholders(PUBLISHED_SCHEMAS)})",
            list(PUBLISHED_SCHEMAS),
        ).fetchall()
        tables = dict(located)
        present = {
            table: {str(c[0]) for c in con.execute(f"select * from {table} limit 0").description}
            for table in tables.values()
        }
    previous = _previous_maxima(serving_db, tables)
    suites = []
    for model in sorted(mart_models(marts_dir) & tables.keys()):
        if only is not None and model not in only:
            continue
        table = tables[model]
        rules = MART_RULES.get(model, MartRules())
        contract = contracts[model].columns if model in contracts else {}
        generated, computed = contract_expectations(
            contract, rules, present[table], tables, previous.get(model)
        )
        extra = rules.extra() if rules.extra else []
        expectations = _unique([*generated, *extra])
        # Hand-written expectations may filter on any column: their marts are read whole.
        columns = None if extra else tuple(sorted(_columns_used(generated) & present[table]))
        suites.append(
            MartSuite(
                table,
                partial(list, expectations),
                columns=columns,
                computed=computed,
            )
        )
    return suites


def judges_whole_table(expectation: Expectation) -> bool:
    """Whether an expectation judges the table as a whole (a row count, uniqueness across rows,
    a maximum, a share of rows) rather than each row on its own."""
    e = gx.expectations
    if isinstance(expectation, e.ExpectColumnValuesToBeUnique | e.ExpectCompoundColumnsToBeUnique):
        return True
    if not isinstance(
        expectation, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation
    ):
        return True
    mostly = expectation.mostly  # a share of rows (or a parameter resolved at run time)
    return not isinstance(mostly, int | float) or mostly < 1


def split_suite(suite: MartSuite, new_rows_only: bool) -> tuple[MartSuite, MartSuite]:
    """``suite`` as two: the expectations that judge the whole mart, reading only the columns
    they use, and the row-by-row ones (read in frames; with ``new_rows_only``, of the rows the
    published mart does not hold)."""
    expectations = suite.expectations()
    whole = [e for e in expectations if judges_whole_table(e)]
    each_row = [e for e in expectations if not judges_whole_table(e)]
    return (
        MartSuite(suite.table, partial(list, whole), columns=tuple(sorted(_columns_used(whole)))),
        MartSuite(
            suite.table,
            # GX binds an expectation to the suite it runs in: new objects for every frame.
            partial(_copies, each_row),
            columns=suite.columns,
            computed=suite.computed,
            new_rows_only=new_rows_only,
        ),
    )


def _copies(expectations: list[Expectation]) -> list[Expectation]:
    return [copy.copy(expectation) for expectation in expectations]


def _is_large(con: duckdb.DuckDBPyConnection, suite: MartSuite) -> bool:
    return suite.table != INVENTORY_TABLE and _rows(con, suite.table) >= LARGE_MART_ROWS


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"select count(*) from {table}").fetchall()[0][0])


def _alike(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the serving warehouse has ``table`` with the same columns, in the same order (the
    rows are compared by a hash of all their columns)."""
    schema, name = table.split(".", 1)
    columns = con.execute(
        "select database_name = 'serving', list(column_name order by column_index) "
        "from duckdb_columns() where database_name in (current_database(), 'serving') "
        "and schema_name = ? and table_name = ? group by all",
        [schema, name],
    ).fetchall()
    return len(columns) == 2 and columns[0][1] == columns[1][1]


def layer_suites(build_db: Path) -> list[MartSuite]:
    """The suites of the map layers in ``build_db``. geo.layers writes them before the gate; a
    warehouse built by dbt alone has none, and a layer gone since the last publish is the
    inventory suite's finding."""
    with connect_duckdb(str(build_db), read_only=True) as con:
        present = {
            f"{schema}.{table}"
            for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
    return [suite for suite in GEO_SUITES if suite.table in present]


def _placeholders(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


def _previous_maxima(serving_db: Path | None, tables: dict[str, str]) -> dict[str, object]:
    """The freshness column's maximum of each mart in the last published warehouse."""
    if serving_db is None or not serving_db.exists():
        return {}
    maxima = {}
    with connect_duckdb(str(serving_db), read_only=True) as con:
        published = {
            name: f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        for model, rules in MART_RULES.items():
            if rules.freshness is None or model not in published or model not in tables:
                continue
            columns = con.execute(f"select * from {published[model]} limit 0").description or []
            if rules.freshness in {str(c[0]) for c in columns}:
                value = con.execute(f'select max("{rules.freshness}") from {published[model]}')
                maxima[model] = value.fetchall()[0][0]
    # GX compares a column's maximum with a datetime, not a date.
    return {
        model: datetime.combine(value, datetime.min.time()) if type(value) is date else value
        for model, value in maxima.items()
        if value is not None
    }


def _rows_query(suite: MartSuite) -> str:
    selected = ["*"] if suite.columns is None else [f't."{c}"' for c in suite.columns]
    selected += [f'{expression} as "{name}"' for name, expression in suite.computed.items()]
    rows = suite.table
    if suite.new_rows_only:
        # An anti-join on a hash of every column: the published rows are held as 8-byte hashes,
        # not as rows (a set difference would hash-table whole rows of millions).
        rows = (
            f"(with now as (select *, hash(*columns(*)) as __row_hash from {suite.table}), "
            f"published as (select hash(*columns(*)) as __row_hash from serving.{suite.table}) "
            "select * exclude (__row_hash) from now anti join published using (__row_hash))"
        )
    return f"select {', '.join(selected) or '1'} from {rows} as t"


def _frame(con: duckdb.DuckDBPyConnection, suite: MartSuite) -> pd.DataFrame:
    return con.sql(_rows_query(suite)).df()


def _frames(con: duckdb.DuckDBPyConnection, suite: MartSuite) -> Iterator[pd.DataFrame]:
    """The suite's rows, up to :data:`VECTORS_PER_FRAME` of DuckDB's vectors at a time (a frame
    may be shorter before the last, after a join): at least one frame, maybe empty."""
    result = con.execute(_rows_query(suite))
    frame = result.fetch_df_chunk(VECTORS_PER_FRAME)
    yield frame
    while len(frame):
        frame = result.fetch_df_chunk(VECTORS_PER_FRAME)
        if len(frame):
            yield frame


def _validate_in_frames(
    con: duckdb.DuckDBPyConnection,
    suite: MartSuite,
    context: AbstractDataContext,
    run_id: str,
) -> list[ExpectationOutcome]:
    """A row-by-row suite over its frames, one outcome per expectation: passed if it passed on
    every frame, the unexpected rows summed."""
    merged: dict[int, ExpectationOutcome] = {}
    rows = 0
    for number, frame in enumerate(_frames(con, suite), start=1):
        rows += len(frame)
        part = replace(suite, frame_number=number)
        for index, outcome in enumerate(validate_dataframe(part, frame, context, run_id)):
            before = merged.get(index)
            merged[index] = outcome if before is None else _combined(before, outcome)
    log.info(
        "gate: validated %s row by row (%d %srows)",
        suite.table,
        rows,
        "new " if suite.new_rows_only else "",
    )
    return [replace(o, checkpoint=f"publish_gate__{suite.name}") for o in merged.values()]


def _combined(first: ExpectationOutcome, then: ExpectationOutcome) -> ExpectationOutcome:
    counts = [json.loads(first.observed), json.loads(then.observed)]
    observed = sum(counts) if all(isinstance(c, int) for c in counts) else counts[-1]
    return replace(first, success=first.success and then.success, observed=json.dumps(observed))


def _table_shapes(db: Path) -> dict[str, tuple[int, set[str]]]:
    """Rows and columns of every published table of a warehouse (not the gate's own record)."""
    with connect_duckdb(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' "
            f"and table_schema in ({_placeholders(PUBLISHED_SCHEMAS)}) "
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
    docs_dir: Path | None = None,
    only_changed: bool = False,
) -> GateResult:
    """Validate every mart suite, the map layers' suites, and the warehouse's inventory against
    the last published one (``serving_db``), record the outcomes in ``meta.gate_result``, return
    them. With ``docs_dir``, GX's Data Docs of the run are written to ``docs_dir/<run_id>/``.

    With ``only_changed``, the marts whose rows and columns equal the published ones are not
    read again (they passed the gate that published them): after a build that redid part of the
    warehouse, only what it changed is validated, with the inventory and the map layers."""
    only = None
    if only_changed and serving_db is not None:
        changed = changed_tables(build_db, serving_db)
        if changed is not None:
            only = {name.split(".", 1)[1] for name in changed}
            log.info("gate: %d published table(s) changed since the last publish", len(changed))
    chosen = suites or [
        *mart_suites(build_db, serving_db, only=only),
        *layer_suites(build_db),
        WAREHOUSE_INVENTORY,
    ]
    outcomes: list[ExpectationOutcome] = []
    inventory = (
        inventory_frame(build_db, serving_db)
        if any(s.table == INVENTORY_TABLE for s in chosen)
        else None
    )
    context = gate_context()
    # One mart in memory at a time: the large facts are read one after the other.
    with connect_duckdb(str(build_db), read_only=True) as con:
        if only is not None and serving_db is not None:
            literal = str(serving_db).replace("'", "''")
            con.execute(f"attach '{literal}' as serving (read_only)")
        for suite in chosen:
            if suite.table == INVENTORY_TABLE:
                assert inventory is not None
                outcomes.extend(validate_dataframe(suite, inventory, context, run_id))
                continue
            if not _is_large(con, suite):
                frame = _frame(con, suite)
                log.info("gate: validating %s (%d rows)", suite.table, len(frame))
                outcomes.extend(validate_dataframe(suite, frame, context, run_id))
                continue
            # Changed since the last publish (only), the published rows need no second look.
            new_rows_only = only is not None and _alike(con, suite.table)
            whole, each_row = split_suite(suite, new_rows_only)
            if whole.expectations():
                frame = _frame(con, whole)
                log.info("gate: validating %s as a whole (%d rows)", suite.table, len(frame))
                outcomes.extend(validate_dataframe(whole, frame, context, run_id))
                del frame
            if each_row.expectations():
                outcomes.extend(_validate_in_frames(con, each_row, context, run_id))
    result = GateResult(run_id=run_id, outcomes=outcomes)
    _record(build_db, result)
    if docs_dir is not None:
        write_data_docs(context, docs_dir, run_id)
    return result


DOCS_KEPT = 30  # gate runs whose Data Docs are kept


def write_data_docs(context: AbstractDataContext, docs_dir: Path, run_id: str) -> Path:
    """Build GX's Data Docs of this run into ``docs_dir/<run_id>/``, readable offline (the
    libraries the pages load are copied next to them), point ``docs_dir/index.html`` at it and
    keep the last :data:`DOCS_KEPT` runs."""
    import shutil
    from urllib.parse import unquote, urlparse

    built = context.build_data_docs()
    site = Path(unquote(urlparse(next(iter(built.values()))).path)).parent
    folder_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    target = docs_dir / folder_name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(site, target)
    try:
        localise(target)
    except AssetsMissing as exc:
        log.warning("%s", exc)
    (docs_dir / "index.html").write_text(
        f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" '
        f'content="0; url={folder_name}/index.html"><title>Publish gate — Data Docs</title>'
        f'<a href="{folder_name}/index.html">Latest gate run: {run_id}</a>\n',
        encoding="utf-8",
    )
    runs = sorted((p for p in docs_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[:-DOCS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)
    log.info("gate: Data Docs in %s", target / "index.html")
    return target


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
    with connect_duckdb(str(build_db)) as con:
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
