"""The build stage: dbt builds ``build.duckdb`` from the lake, the GIS layers are computed into it
(geo.layers), then the gate, then publish, then the open alerts go out (iochub.alerts).

``ioc build`` and ``ioc run`` call :func:`build_and_publish`; the ``build_warehouse`` DAG runs
the same steps as separate tasks (dbt through astronomer-cosmos).
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass, replace

from connectors.landing import write_placeholders
from connectors.registry import load_registry
from expectations.gate import GateFailed, GateResult, run_publish_gate
from geo.layers import build_layers
from iochub.alerts import NotifyResult, notify_open_alerts
from iochub.build_plan import BuildPlan, plan_build, record_build
from iochub.lake_meta import write_registry_snapshot
from iochub.publish import publish
from iochub.settings import Settings

log = logging.getLogger(__name__)


class DbtFailed(Exception):
    """dbt build failed: a model or a test; the serving warehouse is left as it was."""


@dataclass(frozen=True)
class BuildOutcome:
    gate: GateResult
    published: dict[str, int]
    alerts: NotifyResult | None = None
    plan: BuildPlan | None = None


def dbt_args(settings: Settings, *command: str) -> list[str]:
    return [
        *command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
    ]


def prepare_build(settings: Settings) -> None:
    """What dbt needs before it starts: the warehouse folder (DuckDB creates the file, not its
    folder) and a typed empty placeholder with every declared column in each table's folder."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    written = write_placeholders(settings, list(load_registry(settings).values()))
    write_registry_snapshot(settings)  # the registry as a table, for meta_source_freshness
    if written:
        log.info("%d declared table(s) new or changed: typed placeholders written", len(written))


def run_dbt(settings: Settings, *command: str) -> None:
    """Run a dbt command against the build warehouse, in a child process.

    A child process, not dbt's in-process runner: dbt-duckdb keeps the database open for the
    life of the process, which would lock the gate and publish steps out of ``build.duckdb``.
    """
    prepare_build(settings)
    completed = subprocess.run(
        [str(settings.dbt_executable), *dbt_args(settings, *(command or ("build",)))],
        env={**os.environ, **settings.tool_environment()},
        check=False,
    )
    if completed.returncode != 0:
        raise DbtFailed(
            f"dbt {' '.join(command)} failed (exit {completed.returncode}; model and test "
            "errors above); "
            f"the serving warehouse was not changed. Logs: {settings.dbt_project_dir}/logs"
        )


def gate_and_publish(settings: Settings, run_id: str, only_changed: bool = False) -> BuildOutcome:
    """The gate (of the marts that differ from the published ones, with ``only_changed``), then
    publish."""
    gate = run_publish_gate(
        settings.build_db,
        run_id,
        serving_db=settings.serving_db,
        docs_dir=settings.data_docs_dir,
        only_changed=only_changed,
    )
    if not gate.success:
        raise GateFailed(gate)
    return BuildOutcome(gate=gate, published=publish(settings.build_db, settings.serving_db))


def build_warehouse(settings: Settings, full_refresh: bool = False) -> BuildPlan:
    """dbt build of what changed since the last build (iochub.build_plan), or of everything."""
    plan = plan_build(settings, full_refresh)
    log.info("dbt: %s", plan.describe())
    run_dbt(settings, "build", *plan.dbt_arguments())
    record_build(settings, plan)
    return plan


def build_and_publish(settings: Settings, run_id: str, full_refresh: bool = False) -> BuildOutcome:
    """dbt build → GIS layers → gate → publish, then the open alerts of what was published go
    out."""
    plan = build_warehouse(settings, full_refresh)
    build_layers(settings)
    # A full rebuild validates everything again: the gate's rules may be what changed.
    outcome = gate_and_publish(settings, run_id, only_changed=not plan.full_refresh)
    return replace(outcome, alerts=notify_open_alerts(settings), plan=plan)
