"""Airflow objects derived from the registry: an Asset per landed table (shared by the extract and
build DAGs), a pool per source system, and what an extract run reads (a backfill re-reads)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from connectors.registry import Source

if TYPE_CHECKING:  # the kinds' module is for the task, not for DAG parsing
    from airflow.sdk import Asset

    from connectors.kinds.base import ExtractOptions


def asset_name(source: str, table: str) -> str:
    """The Asset name of the lake table ``source.table`` (what the REST API looks up)."""
    return f"lake.{source}.{table}"


def table_asset(source: str, table: str) -> Asset:
    """The lake table ``source.table`` as an Asset. Its URI names the table, not the folder it
    is stored in (``IOC_HOME/lake/raw/<source>/<table>``): Airflow identifies an Asset by name
    and URI together, and the same table must stay the same Asset wherever IOC_HOME points.
    Airflow is imported here, not with the module: the listener needs only the names."""
    from airflow.sdk import Asset

    return Asset(
        name=asset_name(source, table), uri=f"iochub://lake/{source}/{table}", group="lake"
    )


def source_assets(source: Source) -> list[Asset]:
    return [table_asset(source.name, table.name) for table in source.tables]


def source_pool(source: Source) -> str:
    """The Airflow pool of a source system: its extract tasks (a scheduled run, a backfill, a
    manual re-run) hold one slot each, so the system never sees more connections from us."""
    return f"source__{source.name}"


def pool_definitions(sources: list[Source]) -> dict[str, dict[str, object]]:
    """Every source's pool, in the form ``airflow pools import`` reads."""
    return {
        source_pool(source): {
            "slots": 1,
            "description": f"{source.title} — {source.owner}",
            "include_deferred": False,
        }
        for source in sources
    }


def extract_options(
    run_type: str, interval_start: datetime | None, since: str | None
) -> ExtractOptions:
    """What one ``extract__<source>`` run reads. A scheduled or manual run reads what is new
    since the watermark; given ``since`` (the DAG's param, "Trigger DAG w/ config") it re-reads
    the incremental tables from that date; a run of ``airflow backfill create`` re-reads from the
    start of its own interval. Re-read rows land again and the warehouse keeps the latest landing
    of each key; watermarks never move back."""
    from connectors.kinds.base import ExtractOptions

    if since:
        return ExtractOptions(since=since)
    if run_type == "backfill" and interval_start is not None:
        return ExtractOptions(since=interval_start.date().isoformat())
    return ExtractOptions()
