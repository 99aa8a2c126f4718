"""Airflow objects derived from the registry: an Asset per landed table (shared by the extract and
build DAGs) and a pool per source system."""

from __future__ import annotations

from airflow.sdk import Asset

from connectors.registry import Source
from iochub.settings import Settings


def table_asset(settings: Settings, source: str, table: str) -> Asset:
    return Asset(
        name=f"lake.{source}.{table}",
        uri=f"file://{settings.raw_dir}/{source}/{table}",
        group="lake",
    )


def source_assets(settings: Settings, source: Source) -> list[Asset]:
    return [table_asset(settings, source.name, table.name) for table in source.tables]


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
