"""One ``extract__<source>`` DAG per source declared in the registry, its task in the source
system's pool (created by ``ioc demo`` from the same registry).

At import this file only reads the registry (small YAML files); the extract itself runs in the
task. Each landed table is an Airflow Asset, so ``build_warehouse`` runs when new data lands.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task

from connectors.registry import Source, load_registry
from iochub.assets import source_assets, source_pool
from iochub.settings import Settings, get_settings


def make_extract_dag(settings: Settings, source: Source) -> DAG:
    with DAG(
        dag_id=f"extract__{source.name}",
        description=f"{source.title} — {source.owner}",
        schedule=source.schedule,
        start_date=datetime(2025, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["extract", source.sector, source.kind],
        default_args={
            "retries": 3,
            "retry_delay": timedelta(seconds=settings.extract_retry_delay_seconds),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(minutes=10),
            "execution_timeout": timedelta(hours=1),
        },
        params={
            "since": Param(
                None,
                type=["null", "string"],
                format="date",
                description="Re-read the incremental tables from this date (a backfill).",
            )
        },
        doc_md=(
            f"Extracts **{source.title}** (owner: {source.owner}) into the lake. "
            "Trigger with `since` (YYYY-MM-DD) to re-read from that date; see docs/operations.md"
            " (Backfill)."
        ),
    ) as dag:

        @task(task_id="extract", outlets=source_assets(source), pool=source_pool(source))
        def extract(name: str = source.name) -> dict[str, object]:
            from airflow.sdk import get_current_context
            from airflow.sdk.exceptions import AirflowSkipException

            from connectors.extract import run_extract
            from connectors.source_lock import SourceBusy
            from iochub.assets import extract_options

            context = get_current_context()
            run = context["dag_run"]
            options = extract_options(
                str(run.run_type), run.data_interval_start, context["params"].get("since")
            )
            try:
                manifest = run_extract(name, get_settings(), options)
            except SourceBusy as exc:
                # Its listener (or a hand-run extract) is landing it: nothing to do here.
                raise AirflowSkipException(str(exc)) from exc
            if not any(manifest.rows_landed.values()):
                # Skipped, not failed: the source was checked (its manifest says so), but with
                # no new rows no Asset event is sent and the warehouse is not rebuilt for nothing.
                raise AirflowSkipException(
                    f"nothing new landed ({manifest.items_in} new item(s), "
                    f"{manifest.items_quarantined} quarantined)"
                )
            return {
                "run_id": manifest.run_id,
                "items_in": manifest.items_in,
                "items_quarantined": manifest.items_quarantined,
                "rows_landed": manifest.rows_landed,
            }

        extract()
    return dag


_settings = get_settings()
for _source in load_registry(_settings).values():
    globals()[f"extract__{_source.name}"] = make_extract_dag(_settings, _source)
