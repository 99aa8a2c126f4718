"""``adapter`` for sqlfluff's jinja templater (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable

# Dispatching macros that render a whole row set rather than an expression.
ROW_SETS = {"lake_quarantine", "lake_runs", "lake_run_tables", "lake_failures", "lake_registry"}


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    def render(*args: object) -> str:
        if macro_name in ROW_SETS:
            return f"select * from {macro_name}"
        return f"{macro_name}({', '.join(str(a) for a in args)})"

    return render


def get_columns_in_relation(relation: object) -> list[object]:
    return []


def quote(name: str) -> str:
    return name
