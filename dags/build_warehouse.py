"""``build_warehouse``: dbt build (astronomer-cosmos) of what changed → GIS layers (geo.layers) →
publish gate (GX) → atomic publish → open alerts sent (iochub.alerts) and, when Superset runs, a
dataset imported for each newly published source mart and the chart cache warmed.

It first waits (up to ``SETTLE_SECONDS``) for the extract runs still queued or running, so a burst
of landings (a demo tick, the day's schedules) is published by one build. dbt then builds only
the models of the sources with new extract runs since the last build and what is downstream of
them (iochub.build_plan): the plan is made when the dbt task starts, and recorded by
``record_build`` once dbt succeeded.

Runs when any landed table's Asset is updated by an extract DAG, and every 6 hours in any case
(so freshness and alerts are re-evaluated while the sources are quiet), one run at a time. A
failed dbt test or gate stops the run before publish, so ``serving.duckdb`` keeps the last good
warehouse.
dbt runs as one ``dbt build`` task in a child process: cosmos's per-model rendering costs a task
start per model on a 2-core machine, and an in-process dbt would hold ``build.duckdb`` open
for the gate and publish tasks that follow.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, AssetAny, Context, get_current_context, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import ProfileConfig
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator

from connectors.registry import load_registry
from iochub.assets import source_assets
from iochub.settings import get_settings

_settings = get_settings()
_sources = list(load_registry(_settings).values())
_lake_assets = [asset for source in _sources for asset in source_assets(source)]
_extract_dags = [f"extract__{source.name}" for source in _sources]
# How long a build waits for the extract runs still queued or running to end (a tick triggers
# every due source at once); beyond it, it builds what has landed (a long backfill).
SETTLE_SECONDS = 120


def _prepare_build(context: Context) -> None:
    """Before dbt starts: the typed placeholders, then the plan, which becomes the operator's
    selection (set here, at run time: it depends on what has landed since the last build)."""
    from dataclasses import asdict

    from iochub.build_plan import plan_build
    from iochub.warehouse import prepare_build

    prepare_build(_settings)
    plan = plan_build(_settings)
    dbt = context["task"]
    assert isinstance(dbt, DbtBuildLocalOperator)
    dbt.select = " ".join(plan.select) or None
    dbt.exclude = " ".join(plan.exclude) or None
    dbt.full_refresh = plan.full_refresh
    context["ti"].xcom_push(key="build_plan", value=asdict(plan))
    print(f"dbt: {plan.describe()}")


with DAG(
    dag_id="build_warehouse",
    description="dbt build → GIS layers → quality gate → publish serving.duckdb",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 */6 * * *", timezone="Asia/Ho_Chi_Minh"),
        # Airflow's annotation names its serialized form; the SDK's AssetAny is what DAGs pass.
        assets=AssetAny(*_lake_assets),  # type: ignore[arg-type]
    ),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["warehouse"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
) as build_warehouse:

    @task(task_id="wait_for_extracts")
    def wait_for_extracts() -> float:
        """The first landing of a burst triggers this run: it waits until the burst's other
        extract runs have ended, so one build publishes the whole new day instead of a first
        build with part of it and a second, queued behind it, with the rest."""
        import time

        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        started = time.monotonic()
        while time.monotonic() - started < SETTLE_SECONDS:
            busy = [
                dag_id
                for dag_id in _extract_dags
                if RuntimeTaskInstance.get_dr_count(dag_id=dag_id, states=["queued", "running"])
            ]
            if not busy:
                break
            print(f"waiting for {len(busy)} extract run(s): {', '.join(busy[:5])}")
            time.sleep(2)
        return round(time.monotonic() - started, 1)

    dbt_build = DbtBuildLocalOperator(
        task_id="dbt_build",
        project_dir=str(_settings.dbt_project_dir),
        profile_config=ProfileConfig(
            profile_name="iochub",
            target_name="local",
            profiles_yml_filepath=_settings.dbt_project_dir / "profiles.yml",
        ),
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=str(_settings.dbt_executable),
        env=_settings.tool_environment(),
        append_env=True,
        install_deps=False,
        emit_datasets=False,
        # cosmos runs dbt in a fresh copy of the project: without a cache to carry dbt's
        # partial-parse file between runs, every build parsed all 1,467 nodes again (8-9 s).
        cache_dir=_settings.airflow_home / "cosmos_cache",
        execution_timeout=timedelta(hours=2),
        pre_execute=_prepare_build,
    )

    @task(task_id="record_build")
    def record_build() -> str:
        from iochub.build_plan import BuildPlan
        from iochub.build_plan import record_build as record

        planned = get_current_context()["ti"].xcom_pull(task_ids="dbt_build", key="build_plan")
        plan = BuildPlan(**planned)
        record(_settings, plan)
        return plan.describe()

    @task(task_id="geo_layers")
    def geo_layers() -> dict[str, int]:
        from geo.layers import build_layers

        return build_layers(_settings)

    @task(task_id="quality_gate", retries=0)
    def quality_gate() -> dict[str, int]:
        from expectations.gate import GateFailed, run_publish_gate

        context = get_current_context()
        planned = context["ti"].xcom_pull(task_ids="dbt_build", key="build_plan")
        result = run_publish_gate(
            _settings.build_db,
            context["run_id"],
            serving_db=_settings.serving_db,
            docs_dir=_settings.data_docs_dir,
            # A full rebuild validates everything again: the gate's rules may be what changed.
            only_changed=not planned["full_refresh"],
        )
        if not result.success:
            raise GateFailed(result)
        return {"expectations": len(result.outcomes)}

    @task(task_id="publish")
    def publish() -> dict[str, int]:
        from iochub.publish import publish as publish_serving

        return publish_serving(_settings.build_db, _settings.serving_db)

    @task(task_id="notify_alerts")
    def notify_alerts() -> dict[str, object]:
        from iochub.alerts import notify_open_alerts

        result = notify_open_alerts(_settings)
        if result.failed:
            # Failed, so Airflow retries it; the channels that worked are not sent twice.
            raise RuntimeError(f"alert channel(s) failed: {result.failed}")
        return {"open_alerts": result.open_alerts, "sent": result.sent}

    @task(task_id="superset_source_datasets")
    def superset_source_datasets() -> list[str]:
        from iochub.superset import import_new_source_datasets

        return import_new_source_datasets(_settings)

    @task(task_id="warm_superset_cache")
    def warm_superset_cache() -> dict[str, str] | None:
        from iochub.superset import warm_up_cache

        return warm_up_cache(_settings)

    published = (
        wait_for_extracts()
        >> dbt_build
        >> record_build()
        >> geo_layers()
        >> quality_gate()
        >> publish()
    )
    # Both after publish (a list holding `a >> b` would chain publish to b only, leaving a
    # unordered: the datasets task then ran at the start of the run).
    published >> notify_alerts()
    published >> superset_source_datasets() >> warm_superset_cache()
