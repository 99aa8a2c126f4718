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


def gate_and_publish(settings: Settings, run_id: str) -> BuildOutcome:
    gate = run_publish_gate(
        settings.build_db,
        run_id,
        serving_db=settings.serving_db,
        docs_dir=settings.data_docs_dir,
    )
    if not gate.success:
        raise GateFailed(gate)
    return BuildOutcome(gate=gate, published=publish(settings.build_db, settings.serving_db))


def build_and_publish(settings: Settings, run_id: str) -> BuildOutcome:
    """dbt build → GIS layers → gate → publish, then the open alerts of what was published go
    out."""
    run_dbt(settings, "build")
    build_layers(settings)
    outcome = gate_and_publish(settings, run_id)
    return replace(outcome, alerts=notify_open_alerts(settings))
