"""Airflow Assets for the lake: one per landed table, shared by the extract and build DAGs."""

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
