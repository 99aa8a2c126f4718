"""The marts' column contracts as dbt declares them, read for the publish gate's suites.

The dbt YAML next to each mart (``dbt_project/models/marts/**/_*.yml``) already says which
columns are keys, which may not be null, which hold a code from a fixed list and which point to
another table (a column's own tests, or the model's ``column_checks`` test that holds those
rules for all its columns in one query). The gate's Great Expectations suites are generated
from the same declarations (``expectations.suites.mart_suites``), so a rule is written once
and checked twice: by dbt while it builds, and by GX on the finished warehouse just before it
is published, with each outcome recorded for the data-health dashboard. Tests of severity
``warn`` are left to dbt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_REF = re.compile(r"""ref\(\s*['"]([\w]+)['"]\s*\)""")


@dataclass(frozen=True)
class Relationship:
    to_model: str
    field: str


@dataclass
class ColumnContract:
    not_null: bool = False
    unique: bool = False
    accepted_values: list[Any] | None = None
    relationship: Relationship | None = None


@dataclass
class ModelContract:
    name: str
    columns: dict[str, ColumnContract] = field(default_factory=dict)


def _arguments(spec: dict[str, Any]) -> dict[str, Any]:
    """dbt ≥ 1.10 puts a generic test's inputs under ``arguments``; older files inline them."""
    inner: dict[str, Any] = spec.get("arguments") or spec
    return inner


def _left_to_dbt(spec: dict[str, Any]) -> bool:
    """A test of severity ``warn``, or of some rows only (dbt's ``where``): the build runs it;
    a column expectation of the gate cannot say "where" and would judge every row."""
    config = spec.get("config") or {}
    return bool(
        config.get("severity", spec.get("severity")) == "warn"
        or config.get("where", spec.get("where"))
    )


def _column_contract(tests: list[Any]) -> ColumnContract:
    contract = ColumnContract()
    for test in tests:
        name, spec = (test, {}) if isinstance(test, str) else next(iter(test.items()))
        spec = spec or {}
        if _left_to_dbt(spec):
            continue
        if name == "not_null":
            contract.not_null = True
        elif name == "unique":
            contract.unique = True
        elif name == "accepted_values":
            contract.accepted_values = list(_arguments(spec)["values"])
        elif name == "relationships":
            args = _arguments(spec)
            match = _REF.search(str(args["to"]))
            if match:
                contract.relationship = Relationship(match.group(1), str(args["field"]))
    return contract


def read_mart_contracts(marts_dir: Path) -> dict[str, ModelContract]:
    """Every model declared under ``marts_dir``, by name, with its columns' tests."""
    contracts: dict[str, ModelContract] = {}
    for path in sorted(marts_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models") or []:
            contract = ModelContract(model["name"])
            for column in model.get("columns") or []:
                tests = column.get("data_tests") or column.get("tests") or []
                contract.columns[column["name"]] = _column_contract(tests)
            for test in model.get("data_tests") or model.get("tests") or []:
                if isinstance(test, dict) and "column_checks" in test:
                    _add_column_checks(contract, test["column_checks"] or {})
            contracts[contract.name] = contract
    return contracts


def _add_column_checks(contract: ModelContract, spec: dict[str, Any]) -> None:
    """The rules of a model-level ``column_checks`` test (tests/generic/column_checks.sql),
    which says per column what dbt's not_null, accepted_values and relationships would."""
    if _left_to_dbt(spec):
        return
    args = _arguments(spec)

    def column(name: str) -> ColumnContract:
        return contract.columns.setdefault(name, ColumnContract())

    for name in args.get("not_null") or []:
        column(name).not_null = True
    for name, values in (args.get("accepted_values") or {}).items():
        column(name).accepted_values = list(values)
    for name, parent in (args.get("relationships") or {}).items():
        match = _REF.search(str(parent["to"]))
        if match:
            column(name).relationship = Relationship(match.group(1), str(parent["field"]))


def mart_models(marts_dir: Path) -> set[str]:
    """The names of the mart models (one ``.sql`` file each)."""
    return {path.stem for path in marts_dir.rglob("*.sql")}
