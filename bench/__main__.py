"""``make bench``: run every benchmark and print one table of timings and ratios.

Timings on a shared 2-core machine are noisy, so each case is the best of several repeats and
alternatives run back to back in the same process; compare the ratios, not the absolute times.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from bench import dag_import, dashboards, dbt_build, live, sim_scale1, sql_extract, tick
from bench.landing import landing_cases
from bench.sim_generate import sim_cases
from bench.xml130_decode import decode_cases

Case = tuple[str, str, Callable[[], int], int]  # group, case, function, repeats
# ``python -m bench [group ...]`` runs only those groups (all by default). ``sql`` runs each
# case in a subprocess of its own (peak memory per case) and prints its own table; ``scale1``
# generates the whole demo province at full size (about 10 minutes and 45 GB of disk); ``dbt``
# builds the warehouse on DuckDB and on PostgreSQL from a province landed at scale 0.1 and 1;
# ``dags`` parses the DAG folder in a fresh process; ``dashboards`` times every chart's query
# and the dashboards' render in Chromium against a home's published warehouse (last: it stops
# with a message when there is none); ``live`` backfills a province at scale 0.1 and times one
# new day from source change to published warehouse, phase by phase, with peak memory; ``tick``
# times one demo tick through the real Airflow (the demo's home; it says so when there is none).
GROUPS: dict[str, Callable[[], list[Case]]] = {
    "decode": decode_cases,
    "landing": landing_cases,
    "sim": sim_cases,
}


def best_of(fn: Callable[[], int], repeats: int = 5) -> tuple[float, int]:
    best = float("inf")
    units = 0
    for _ in range(repeats):
        start = time.perf_counter()
        units = fn()
        best = min(best, time.perf_counter() - start)
    return best, units


def main() -> None:
    separate: dict[str, Callable[[list[str]], None]] = {
        "sql": sql_extract.main,
        "scale1": sim_scale1.main,
        "dbt": dbt_build.main,
        "dags": dag_import.main,
        "dashboards": dashboards.main,
        "live": live.main,
        "tick": tick.main,
    }
    # A separate group named first takes the options that follow it:
    # ``python -m bench dbt --scale 0.1 --months 12``.
    if len(sys.argv) > 1 and sys.argv[1] in separate:
        separate[sys.argv[1]](sys.argv[2:])
        return
    chosen = sys.argv[1:] or [*GROUPS, *separate]
    unknown = set(chosen) - {*GROUPS, *separate}
    if unknown:
        raise SystemExit(
            f"unknown benchmark group(s) {sorted(unknown)}; known: {[*GROUPS, *separate]}"
        )
    if [g for g in chosen if g in GROUPS]:
        in_process([g for g in chosen if g in GROUPS])
    for name, run in separate.items():
        if name in chosen:
            run([])


def in_process(chosen: list[str]) -> None:
    table = Table(title="iochub benchmarks (best of the repeats shown)")
    for column in ("benchmark", "case", "repeats", "seconds", "units/s", "ratio to first"):
        table.add_column(column)
    groups: dict[str, list[Case]] = {}
    for case in [case for name in chosen for case in GROUPS[name]()]:
        groups.setdefault(case[0], []).append(case)
    for group, cases in groups.items():
        baseline = None
        for _, name, fn, repeats in cases:
            seconds, units = best_of(fn, repeats)
            baseline = baseline or seconds
            table.add_row(
                group,
                name,
                str(repeats),
                f"{seconds:.4f}",
                f"{units / seconds:,.0f}",
                f"{seconds / baseline:.2f}×",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
