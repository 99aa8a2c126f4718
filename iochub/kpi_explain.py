"""Why a KPI has the value it has, and which records moved it: ``ioc kpi explain``.

Reads the published warehouse (``serving.duckdb``, read-only), downstream of the whole data
flow: the indicator's row of ``marts.fct_kpi_value`` for a period and an admin unit, its rule
clauses in order (``marts.kpi_rule_clauses``: the reference of each, or the interpretation the
project chose with the alternative reading's value beside it), and, for the QĐ 766 dossier and
petition indicators, the records of ``marts.fct_kpi_contribution`` ranked by how much each moved
the value. The effect of a record on a ratio N / D is N / D − (N − n) / (D − d): what the value
would lose (or gain) without it; for scored indicators also in QĐ 766 points. 766-3.3 has no
records of its own (it is 766-3.3r × 766-1.4 of the unit and month), so it is explained by its
two factors, each with its records.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from iochub.duckdb_connect import connect_duckdb

# 766-3.3 = online share × sync rate of the same unit and month (int_kpi__public_services).
PRODUCT_FACTORS: dict[str, tuple[str, str]] = {"766-3.3": ("766-3.3r", "766-1.4")}

CONTRIBUTIONS_MODEL = "int_kpi__public_services__contributions"

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class ExplainError(Exception):
    """What the user asked cannot be answered; the message says what to do instead."""


@dataclass(frozen=True)
class AdminUnit:
    level: str  # commune | district | province
    code: str

    @classmethod
    def choose(cls, commune: str | None = None, district: str | None = None) -> AdminUnit:
        """The unit of the command's options: a 2025 commune, an old district, else province 82."""
        if commune and district:
            raise ExplainError("give --commune or --district, not both")
        if commune:
            return cls("commune", commune)
        if district:
            return cls("district", district)
        return cls("province", "82")


@dataclass(frozen=True)
class KpiValue:
    """One fct_kpi_value row, with the unit's name."""

    kpi_id: str
    name_en: str | None
    name_vi: str | None
    unit: str | None
    direction: str | None
    period_type: str
    period: str
    admin_level: str
    admin_code: str
    admin_name: str | None
    numerator: float | None
    denominator: float | None
    value: float | None
    period_aggregation: str
    months_covered: int
    months_in_period: int
    target_value: float | None
    target_comparison: str | None
    target_source: str | None
    status: str
    scoring_kind: str | None
    threshold: float | None
    max_points: int | None
    score: float | None


@dataclass(frozen=True)
class Clause:
    ordinal: int
    aspect: str | None
    rule_en: str
    rule_vi: str | None
    reference: str | None
    is_interpretation: bool
    alternative: str | None
    alternative_kpi_id: str | None
    alternative_effect: str | None
    # The alternative reading's value for the same unit and period, when it is computed.
    alternative_value: float | None


@dataclass(frozen=True)
class RecordEffect:
    record_type: str
    record_id: str
    period: str
    commune_code: str | None
    procedure_code: str | None
    numerator: float
    denominator: float
    value_without: float | None  # None: the value has no denominator left without the record
    effect: float | None  # value − value_without, in the indicator's unit (ratio: 0–1)
    score_effect: float | None  # in QĐ 766 points, for scored indicators
    reason_code: str | None
    reason: str | None


@dataclass(frozen=True)
class Records:
    """The records behind the value: totals, the shortfalls by reason, the top movers."""

    count: int
    numerator: float
    denominator: float
    short_by_reason: tuple[tuple[str, int], ...]
    top: tuple[RecordEffect, ...]


@dataclass(frozen=True)
class Explanation:
    row: KpiValue
    months: tuple[KpiValue, ...]  # the month rows of a quarter or a year (empty for a month)
    clauses: tuple[Clause, ...]
    clauses_note: str | None
    records: Records | None
    records_note: str | None  # why there are no records to rank, or a mismatch with the row
    factors: tuple[Explanation, ...]  # 766-3.3: its two factors


def period_months(period: str) -> tuple[str, tuple[str, ...]]:
    """The period's type and its months (yyyy-mm), from yyyy-mm, yyyy-Qn or yyyy."""
    if match := _MONTH.match(period):
        return "month", (period,)
    if match := _QUARTER.match(period):
        year, quarter = match.group(1), int(match.group(2))
        return "quarter", tuple(f"{year}-{m:02d}" for m in range(3 * quarter - 2, 3 * quarter + 1))
    if match := _YEAR.match(period):
        return "year", tuple(f"{match.group(1)}-{m:02d}" for m in range(1, 13))
    raise ExplainError(
        f"period {period!r} is not a month (2025-09), a quarter (2025-Q3) or a year (2025)"
    )


def qd766_score(
    value: float | None, scoring_kind: str | None, threshold: float | None, max_points: int | None
) -> float | None:
    """QĐ 766 points of a value: the rule of the kpi_score dbt macro (macros/kpi_rules.sql),
    needed here to score the value without a record."""
    if value is None or max_points is None:
        return None
    if scoring_kind == "threshold" and threshold is not None and threshold > 0:
        if value >= threshold:
            return float(max_points)
        return 0.0 if value <= 0 else value * max_points / threshold
    if scoring_kind == "linear":
        return 0.0 if value <= 0 else value * max_points
    return None


def explain_published(
    serving_db: Path, kpi_id: str, period: str, unit: AdminUnit, top: int = 10
) -> Explanation:
    """Explain from the published warehouse (read-only)."""
    if not serving_db.exists():
        raise ExplainError(
            f"no published warehouse at {serving_db}: run `make demo` (the demo province) or "
            "`ioc run` (extract and build), or `ioc build` when the lake already holds data"
        )
    with connect_duckdb(str(serving_db), read_only=True) as con:
        return explain(con, kpi_id, period, unit, top)


def explain(
    con: duckdb.DuckDBPyConnection, kpi_id: str, period: str, unit: AdminUnit, top: int = 10
) -> Explanation:
    """The value of ``kpi_id`` for ``period`` and ``unit``, its rules and its top ``top``
    records, from a connection to a warehouse with the marts."""
    _, months = period_months(period)
    _check_known(con, kpi_id)
    row = _value_row(con, kpi_id, period, unit)
    if row is None:
        raise ExplainError(_no_row_message(con, kpi_id, period, unit))
    month_rows = (
        tuple(r for m in months if (r := _value_row(con, kpi_id, m, unit)) is not None)
        if row.period_type != "month"
        else ()
    )
    clauses, clauses_note = _clauses(con, kpi_id, period, unit)
    if kpi_id in PRODUCT_FACTORS:
        factors = tuple(explain(con, f, period, unit, top) for f in PRODUCT_FACTORS[kpi_id])
        share, sync = PRODUCT_FACTORS[kpi_id]
        note = (
            f"not itemised: {kpi_id} = {share} × {sync} of the unit and month "
            "(int_kpi__public_services); the records of each factor follow"
        )
        return Explanation(row, month_rows, clauses, clauses_note, None, note, factors)
    records, records_note = _records(con, row, unit, months, top)
    return Explanation(row, month_rows, clauses, clauses_note, records, records_note, ())


def _known_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select kpi_id from marts.kpi_catalogue union "
            "select distinct kpi_id from marts.fct_kpi_value order by 1"
        ).fetchall()
    ]


def _check_known(con: duckdb.DuckDBPyConnection, kpi_id: str) -> None:
    known = _known_ids(con)
    if kpi_id in known:
        return
    wanted = kpi_id.lower()
    close = [k for k in known if wanted in k.lower()]
    close += [
        k for k in difflib.get_close_matches(kpi_id, known, n=6, cutoff=0.5) if k not in close
    ]
    hint = f"close ids: {', '.join(close[:8])}" if close else "no id is close"
    raise ExplainError(
        f"unknown indicator {kpi_id!r}; {hint} (every id: docs/kpis.md, or marts.kpi_catalogue)"
    )


_VALUE_COLUMNS = (
    "v.kpi_id, v.name_en, v.name_vi, v.unit, v.direction, v.period_type, v.period, "
    "v.admin_level, v.admin_code, u.admin_unit_name, v.numerator, v.denominator, v.value, "
    "v.period_aggregation, v.months_covered, v.months_in_period, v.target_value, "
    "v.target_comparison, v.target_source, v.status, v.scoring_kind, v.threshold, "
    "v.max_points, v.score"
)


def _value_row(
    con: duckdb.DuckDBPyConnection, kpi_id: str, period: str, unit: AdminUnit
) -> KpiValue | None:
    found = con.execute(
        f"select {_VALUE_COLUMNS} from marts.fct_kpi_value as v "
        "left join marts.dim_admin_unit as u on v.admin_unit_key = u.admin_unit_key "
        "where v.kpi_id = ? and v.period = ? and v.admin_level = ? and v.admin_code = ?",
        [kpi_id, period, unit.level, unit.code],
    ).fetchone()
    return KpiValue(*found) if found else None


def _no_row_message(
    con: duckdb.DuckDBPyConnection, kpi_id: str, period: str, unit: AdminUnit
) -> str:
    where = f"{unit.level} {unit.code}"
    periods = [
        r[0]
        for r in con.execute(
            "select period from marts.fct_kpi_value "
            "where kpi_id = ? and admin_level = ? and admin_code = ? "
            "order by months_in_period, period_start",
            [kpi_id, unit.level, unit.code],
        ).fetchall()
    ]
    if periods:
        return (
            f"{kpi_id} has no value for {where} in {period}; periods with a value: "
            f"{', '.join(periods)}"
        )
    levels = con.execute(
        "select admin_level, count(distinct admin_code), min(admin_code), "
        "string_agg(distinct period_type, ', ' order by period_type) "
        "from marts.fct_kpi_value where kpi_id = ? group by 1 order by 1",
        [kpi_id],
    ).fetchall()
    if not levels:
        return (
            f"{kpi_id} has no value at all in this warehouse: the warehouse does not compute it "
            "(docs/kpis.md says which indicators are computed)"
        )
    found = "; ".join(
        f"{level}: {units} unit(s), e.g. {example} ({kinds})"
        for level, units, example, kinds in levels
    )
    return (
        f"{kpi_id} has no value for {where} in any period; it has values for {found} "
        "(--commune CODE for a 2025 commune, --district CODE for an old district before "
        "2025-07, neither for the province)"
    )


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]  # type: ignore[index]
    )


def _clauses(
    con: duckdb.DuckDBPyConnection, kpi_id: str, period: str, unit: AdminUnit
) -> tuple[tuple[Clause, ...], str | None]:
    if not _has_table(con, "marts", "kpi_rule_clauses"):
        return (), (
            "this warehouse has no marts.kpi_rule_clauses: rebuild it (`ioc build`) to see the "
            "rules applied"
        )
    rows = con.execute(
        "select c.ordinal, c.aspect, c.rule_en, c.rule_vi, c.reference, c.is_interpretation, "
        "c.alternative, c.alternative_kpi_id, c.alternative_effect, alt.value "
        "from marts.kpi_rule_clauses as c "
        "left join marts.fct_kpi_value as alt "
        "on alt.kpi_id = c.alternative_kpi_id and alt.period = ? "
        "and alt.admin_level = ? and alt.admin_code = ? "
        "where c.kpi_id = ? order by c.ordinal",
        [period, unit.level, unit.code, kpi_id],
    ).fetchall()
    clauses = tuple(
        Clause(
            ordinal=r[0],
            aspect=r[1],
            rule_en=r[2],
            rule_vi=r[3],
            reference=r[4],
            is_interpretation=bool(r[5]),
            alternative=r[6],
            alternative_kpi_id=r[7],
            alternative_effect=r[8],
            alternative_value=r[9],
        )
        for r in rows
    )
    return clauses, None if clauses else "no rule clause is recorded for this indicator"


def _not_itemised(con: duckdb.DuckDBPyConnection, row: KpiValue) -> str:
    computed_by = (
        "a kpi_input model of dbt_project/models/intermediate/kpi/ "
        "(listed in dbt_project/macros/kpi_inputs.sql)"
    )
    if _has_column(con, "fct_kpi_value", "input_model"):
        model = con.execute(
            "select min(input_model) from marts.fct_kpi_value where kpi_id = ?", [row.kpi_id]
        ).fetchone()
        if model and model[0]:
            computed_by = f"dbt_project/models/intermediate/kpi/{model[0]}.sql"
    return (
        "not itemised for this indicator: it is computed from aggregates, not per record, by "
        + computed_by
    )


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_columns() "
            "where schema_name = 'marts' and table_name = ? and column_name = ?",
            [table, column],
        ).fetchone()[0]  # type: ignore[index]
    )


def _unit_filter(unit: AdminUnit) -> tuple[str, list[Any]]:
    """The contributions that add up to the unit's row (int_kpi__public_services's levels)."""
    if unit.level == "commune":
        return "commune_code = ?", [unit.code]
    if unit.level == "district":
        return "legacy_district_code = ? and period < '2025-07'", [unit.code]
    return "true", []


def _records(
    con: duckdb.DuckDBPyConnection,
    row: KpiValue,
    unit: AdminUnit,
    months: tuple[str, ...],
    top: int,
) -> tuple[Records | None, str | None]:
    if not _has_table(con, "marts", "fct_kpi_contribution"):
        return None, (
            "this warehouse has no marts.fct_kpi_contribution: rebuild it (`ioc build`) to see "
            "the records"
        )
    itemised = con.execute(
        "select count(*) from marts.fct_kpi_contribution where kpi_id = ?", [row.kpi_id]
    ).fetchone()[0]  # type: ignore[index]
    if not itemised or row.period_aggregation != "ratio":
        return None, _not_itemised(con, row)
    unit_sql, unit_params = _unit_filter(unit)
    selected = (
        "with records as (select * from marts.fct_kpi_contribution where kpi_id = ? "
        f"and period in ({', '.join('?' * len(months))}) and {unit_sql}) "
    )
    params: list[Any] = [row.kpi_id, *months, *unit_params]
    count, num, den = con.execute(
        selected + "select count(*), coalesce(sum(numerator), 0), coalesce(sum(denominator), 0) "
        "from records",
        params,
    ).fetchone()  # type: ignore[misc]
    # For a count ratio the reason says why a record falls short; for days (766-2.2) every
    # record carries its days as its reason, which is no shortfall.
    short: tuple[tuple[str, int], ...] = ()
    if row.unit == "ratio":
        short = tuple(
            con.execute(
                selected + "select reason_code, count(*) from records "
                "where reason_code is not null group by 1 order by 2 desc, 1",
                params,
            ).fetchall()
        )
    big_n, big_d = row.numerator or 0.0, row.denominator or 0.0
    # Without the record, the value is (N − n) / (D − d); none when nothing is left to divide.
    ranked = con.execute(
        selected + ", effects as (select *, "
        "cast(? as double) / nullif(cast(? as double), 0) "
        "- (cast(? as double) - numerator) / nullif(cast(? as double) - denominator, 0) "
        "as effect from records) "
        "select record_type, record_id, period, commune_code, procedure_code, numerator, "
        "denominator, reason_code, reason, effect from effects "
        "order by abs(effect) desc nulls first, record_id limit ?",
        [*params, big_n, big_d, big_n, big_d, top],
    ).fetchall()
    tops = []
    for rtype, rid, month, commune, procedure, n, d, code, reason, effect in ranked:
        without = (big_n - n) / (big_d - d) if big_d - d else None
        score_effect = None
        if row.max_points is not None and without is not None:
            args = (row.scoring_kind, row.threshold, row.max_points)
            now, then = qd766_score(row.value, *args), qd766_score(without, *args)
            if now is not None and then is not None:
                score_effect = now - then
        tops.append(
            RecordEffect(
                record_type=rtype,
                record_id=rid,
                period=month,
                commune_code=commune,
                procedure_code=procedure,
                numerator=n,
                denominator=d,
                value_without=without,
                effect=effect,
                score_effect=score_effect,
                reason_code=code,
                reason=reason,
            )
        )
    note = None
    if abs(num - big_n) > 1e-6 or abs(den - big_d) > 1e-6:
        note = (
            f"the records add up to {num:g} / {den:g}, not the value's {big_n:g} / {big_d:g}: "
            "the warehouse's marts are out of step; rebuild with `ioc build`"
        )
    return Records(int(count), float(num), float(den), short, tuple(tops)), note


# --- presentation (the `ioc kpi explain` command) -------------------------------------------


def as_json(explanation: Explanation) -> str:
    return json.dumps(asdict(explanation), ensure_ascii=False, indent=2)


def _amount(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def format_value(value: float | None, unit: str | None) -> str:
    """A value in the indicator's unit: ratios as percentages, days with two decimals."""
    if value is None:
        return "no value"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "days":
        return f"{value:.2f} days"
    return f"{_amount(value)} {unit or ''}".rstrip()


def format_effect(effect: float | None, unit: str | None) -> str:
    """A change of the value: percentage points for ratios."""
    if effect is None:
        return "all of it"
    if unit == "ratio":
        return f"{effect * 100:+.2f} pp"
    if unit == "days":
        return f"{effect:+.2f} days"
    return f"{effect:+,.4f}"


def _scoring(row: KpiValue) -> str | None:
    if row.max_points is None:
        return None
    if row.scoring_kind == "threshold" and row.threshold:
        rule = (
            f"full at ≥ {format_value(row.threshold, row.unit)}, else value × "
            f"{row.max_points} / {format_value(row.threshold, row.unit)}"
        )
    else:
        rule = f"value × {row.max_points}"
    points = "no points (no value)" if row.score is None else f"{row.score:.2f}"
    return f"{points} of {row.max_points} points (QĐ 766: {rule})"


def _target(row: KpiValue) -> str:
    if row.target_value is None:
        return f"none ({row.status})"
    source = {"plan": "plan target", "qd766_threshold": "QĐ 766 full-score threshold"}.get(
        row.target_source or "", row.target_source or ""
    )
    return (
        f"{row.target_comparison} {format_value(row.target_value, row.unit)} ({source}): "
        f"{row.status}"
    )


def render(explanation: Explanation, out: Console, with_rules: bool = True) -> None:
    """The explanation as the terminal shows it (a factor's without its rules, shown by
    explaining the factor itself)."""
    row = explanation.row
    unit = f"{row.admin_level} {row.admin_code}" + (f" {row.admin_name}" if row.admin_name else "")
    out.print(f"[bold]{row.kpi_id} — {row.name_en or ''}[/bold] ({row.name_vi or ''})")
    covered = (
        f" ({row.months_covered} of {row.months_in_period} months with data)"
        if row.period_type != "month"
        else ""
    )
    out.print(f"{row.period}{covered} · {unit}")
    # A count or an amount (rolled up by sum) has no denominator worth showing.
    terms = (
        ""
        if row.period_aggregation == "sum"
        else f" = {_amount(row.numerator)} / {_amount(row.denominator)} (numerator / denominator)"
    )
    direction = f" · {row.direction.replace('_', ' ')}" if row.direction else ""
    out.print(f"value   {format_value(row.value, row.unit)}{terms}{direction}")
    out.print(f"target  {_target(row)}")
    if scoring := _scoring(row):
        out.print(f"score   {scoring}")
    if explanation.factors:
        share, sync = explanation.factors
        product = (
            share.row.value * sync.row.value
            if share.row.value is not None and sync.row.value is not None
            else None
        )
        factors_line = (
            f"{share.row.kpi_id} {format_value(share.row.value, share.row.unit)} × "
            f"{sync.row.kpi_id} {format_value(sync.row.value, sync.row.unit)} = "
            f"{format_value(product, row.unit)}"
        )
        if row.period_type == "month":
            out.print(f"        = {factors_line}")
        else:
            out.print("        = Σ of its months' online × synced / received, over Σ received")
            out.print(
                f"        the product of the period's own shares (the alternative): {factors_line}"
            )
    if explanation.months:
        table = Table(title="months of the period", title_justify="left")
        for column in ("month", "numerator", "denominator", "value", "score"):
            table.add_column(column, justify="left" if column == "month" else "right")
        for month in explanation.months:
            table.add_row(
                month.period,
                _amount(month.numerator),
                _amount(month.denominator),
                format_value(month.value, month.unit),
                "-" if month.score is None else f"{month.score:.2f}",
            )
        out.print(table)
    if with_rules:
        _render_clauses(explanation, out)
    _render_records(explanation, out)
    for number, factor in enumerate(explanation.factors, 1):
        out.rule(f"factor {number} of {row.kpi_id}: {factor.row.kpi_id}")
        render(factor, out, with_rules=False)
        unit_option = (
            f" --{factor.row.admin_level} {factor.row.admin_code}"
            if factor.row.admin_level != "province"
            else ""
        )
        out.print(
            f"rules: `ioc kpi explain {factor.row.kpi_id} --period {factor.row.period}"
            f"{unit_option}`"
        )


def _render_clauses(explanation: Explanation, out: Console) -> None:
    if explanation.clauses_note:
        out.print(f"rules: {explanation.clauses_note}")
    if not explanation.clauses:
        return
    table = Table(title="rules applied", title_justify="left", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("aspect")
    table.add_column("rule", overflow="fold", ratio=3)
    table.add_column("reference", overflow="fold", ratio=2)
    for clause in explanation.clauses:
        if clause.is_interpretation:
            basis = f"interpretation (the project's reading); alternative: {clause.alternative}"
            if clause.alternative_kpi_id:
                basis += (
                    f" → {clause.alternative_kpi_id} = "
                    f"{format_value(clause.alternative_value, explanation.row.unit)}"
                )
            if clause.alternative_effect:
                basis += f" ({clause.alternative_effect})"
            if clause.reference:
                basis = f"{clause.reference}; {basis}"
        else:
            basis = clause.reference or "-"
        table.add_row(str(clause.ordinal), clause.aspect or "", clause.rule_en, basis)
    out.print(table)


def _render_records(explanation: Explanation, out: Console) -> None:
    row, records = explanation.row, explanation.records
    if explanation.records_note:
        out.print(f"records: {explanation.records_note}")
    if records is None:
        return
    short = ", ".join(f"{code} × {count}" for code, count in records.short_by_reason)
    out.print(
        f"records: {_amount(records.count)} adding up to {_amount(records.numerator)} / "
        f"{_amount(records.denominator)}" + (f"; reasons: {short}" if short else "")
    )
    if not records.top:
        return
    table = Table(
        title=f"the {len(records.top)} records that moved it most "
        "(effect = value − value without the record)",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("record", no_wrap=True)
    if row.period_type != "month":
        table.add_column("month", no_wrap=True)
    # A commune's records are all its own: the column is only worth its width above it.
    by_commune = row.admin_level != "commune"
    if by_commune:
        table.add_column("commune", no_wrap=True)
    for column in ("procedure", "n / d", "effect"):
        table.add_column(column, no_wrap=True, justify="right" if column == "effect" else "left")
    if row.max_points is not None:
        table.add_column("points", justify="right", no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=1)
    for rank, record in enumerate(records.top, 1):
        cells = [str(rank), record.record_id]
        if row.period_type != "month":
            cells.append(record.period)
        if by_commune:
            cells.append(record.commune_code or "-")
        cells += [
            record.procedure_code or "-",
            f"{_amount(record.numerator)} / {_amount(record.denominator)}",
            format_effect(record.effect, row.unit),
        ]
        if row.max_points is not None:
            cells.append(f"{record.score_effect:+.3f}" if record.score_effect else "0")
        cells.append(
            record.reason or ("counts in full" if record.numerator == record.denominator else "-")
        )
        table.add_row(*cells)
    out.print(table)
