"""Landing-batch suites: a Great Expectations suite per registry table, generated from its contract.

Every part a connector is about to write to the lake (the rows the landing contract kept) is
validated by the suite of its table: required columns present and filled, values in their code
lists and ranges, dates not after the load day where the contract says so, admin codes known in
either structure, and personal-data columns carrying pseudonyms (64 hex characters of the keyed
HMAC), never clear values. The contract already rejects such rows one by one (to quarantine, with
their reason), so a failing part means the contract code and the declared contract disagree: the
run fails before anything is committed, nothing reaches the lake, and the failure record names
the expectation. Each table's counts go into the run's manifest (``landing_checks``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache

import great_expectations as gx
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from great_expectations.expectations import Expectation

from connectors.contract import admin_codes
from connectors.registry import ColumnType, DriftAction, PiiTreatment, TableSpec
from expectations.suites import MartSuite

PSEUDONYM = r"^[0-9a-f]{64}$"


class LandingSuiteFailed(Exception):
    """A part the landing contract kept does not meet its table's suite."""


def landing_expectations(spec: TableSpec, part: pa.Table, load_day: date) -> list[Expectation]:
    """The suite of ``spec`` for ``part`` (its columns, and the admin codes it uses), landed on
    ``load_day``."""
    columns = set(part.column_names)
    e = gx.expectations
    out: list[Expectation] = []
    for name in spec.required_columns():
        # A table whose drift policy lets a required column go missing lands without it.
        if spec.drift.removed is not DriftAction.EVOLVE:
            out.append(e.ExpectColumnToExist(column=name))
        if name in columns:
            out.append(e.ExpectColumnValuesToNotBeNull(column=name))
    for name, column in spec.columns.items():
        if name not in columns or name in spec.pii:
            continue
        if column.codes is not None:
            out.append(e.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.codes)))
        if column.type in (ColumnType.INTEGER, ColumnType.DECIMAL) and (
            column.min is not None or column.max is not None
        ):
            out.append(
                e.ExpectColumnValuesToBeBetween(
                    column=name, min_value=column.min, max_value=column.max
                )
            )
        if column.type in (ColumnType.DATE, ColumnType.TIMESTAMP) and not column.future:
            # Anything before the next day's midnight is "not after the load day".
            limit = datetime.combine(load_day + timedelta(days=1), time.min)
            out.append(
                e.ExpectColumnValuesToBeBetween(column=name, max_value=limit, strict_max=True)
            )
        if column.admin_code:
            out.append(
                e.ExpectColumnValuesToBeInSet(column=name, value_set=_known_codes(part, name))
            )
    for name, treatment in spec.pii.items():
        if treatment is PiiTreatment.HMAC and name in columns:
            out.append(e.ExpectColumnValuesToMatchRegex(column=name, regex=PSEUDONYM))
    return out


@cache
def _admin_codes() -> frozenset[str]:
    return frozenset(admin_codes())


def _known_codes(part: pa.Table, name: str) -> list[str]:
    """The national admin codes (both structures) that ``part`` uses in column ``name``.

    GX copies an expectation's whole configuration dozens of times while it validates; with
    the ~10,800 codes of the national lists in it, one table's suite took seconds and the test
    suite's landings doubled in time. The codes a part does not use cannot change the outcome (a
    value outside the national lists is unexpected either way), so the suite carries only the
    used ones that are known, and one known code when none is (GX wants a non-empty set).
    """
    known = _admin_codes()
    used = pc.unique(pc.cast(part.column(name), pa.string())).to_pylist()
    return sorted({code for code in used if code in known}) or [min(known)]


def validate_landing_part(
    source: str, spec: TableSpec, part: pa.Table, load_day: date
) -> tuple[int, list[str]]:
    """Validate one part; returns how many expectations ran and the failures, one line each."""
    from expectations.gate import validate_dataframe

    expectations = landing_expectations(spec, part, load_day)
    if not expectations:
        return 0, []
    frame = _frame(part, expectations)
    # New expectation objects for each validation: GX binds them to the suite they run in.
    suite = MartSuite(
        f"lake.{source}.{spec.name}", lambda: landing_expectations(spec, part, load_day)
    )
    # Landing makes no Data Docs: only whether each expectation passed, which takes GX about
    # 0.6 of the time of BASIC results (measured on a 12-expectation suite), and a part that
    # fails, rarely, is validated again with BASIC for the observed values its error names.
    outcomes = validate_dataframe(suite, frame, result_format="BOOLEAN_ONLY")
    if not all(o.success for o in outcomes):
        outcomes = validate_dataframe(suite, frame, result_format="BASIC")
    failures = [
        f"{o.expectation}({o.column or ''}) observed {o.observed}"
        for o in outcomes
        if not o.success
    ]
    return len(outcomes), failures


def _frame(part: pa.Table, expectations: list[Expectation]) -> pd.DataFrame:
    """The columns the suite reads, as pandas; dates as datetimes (GX compares those), and
    coded columns as text, as the contract compares them (``CAST(col AS VARCHAR)``)."""
    wanted = sorted(
        {str(e.configuration.kwargs["column"]) for e in expectations} & set(part.column_names)
    )
    coded = {
        str(e.configuration.kwargs["column"])
        for e in expectations
        if e.expectation_type == "expect_column_values_to_be_in_set"
    }
    selected = part.select(wanted)
    for name in coded & set(wanted):
        index = selected.column_names.index(name)
        selected = selected.set_column(index, name, pc.cast(selected.column(name), pa.string()))
    frame = selected.to_pandas(date_as_object=False)
    for name in wanted:
        if pd.api.types.is_datetime64tz_dtype(frame[name]):
            frame[name] = frame[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame
