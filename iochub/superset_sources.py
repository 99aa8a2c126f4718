"""Superset datasets for the published source marts, made from the registry at import time.

A source declared ``publish: true`` gets a generated mart per table,
``marts.src_<source>__<table>`` (iochub/dbt_sources.py). ``ioc superset import`` adds to the
assets bundle one physical dataset per such mart, with the registry's column titles as Superset's
column names for people and the cursor (or the landing day) as the time column, so the IOC
operator finds a new system in SQL Lab and in Explore without anyone writing a dataset by hand.
They are made afresh at every import and never written into the bundle folder (an export leaves
them out): the registry stays the one place a source is described. Access follows access.yaml
like any dataset of the bundle: province-scope roles read them; commune-scope roles read those
with the area column, under their row-level rule.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from connectors.registry import ColumnType, Source, TableSpec, load_registry
from iochub.dbt_sources import landed_columns, mart_name
from iochub.duckdb_connect import connect_duckdb
from iochub.settings import Settings

DATABASE_UUID = "6f0e4a52-1c1e-4d8e-9a55-0b7d3c3a8201"  # databases/iochub_serving.yaml
DATABASE_FOLDER = "datasets/iochub_serving"
SCHEMA = "marts"
# uuid5 namespace of the generated datasets: the same mart gets the same uuid on every machine,
# so a re-import updates the dataset (and the charts built on it keep working).
NAMESPACE = uuid.UUID("0d6f3c52-8a1e-5b7e-9c43-5f2a9e1c7d10")
TEMPORAL = {ColumnType.DATE, ColumnType.TIMESTAMP}


def dataset_uuid(source: Source, table: TableSpec) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{SCHEMA}.{mart_name(source, table)}"))


def _column(name: str, type_: str, title: str | None, description: str | None) -> dict[str, Any]:
    return {
        "advanced_data_type": None,
        "column_name": name,
        "datetime_format": None,
        "description": description,
        "expression": "",
        "extra": None,
        "filterable": True,
        "groupby": True,
        "is_active": True,
        "is_dttm": type_ in {"DATE", "TIMESTAMP"},
        "python_date_format": None,
        "type": type_,
        "verbose_name": title,
    }


def _columns(table: TableSpec) -> list[dict[str, Any]]:
    """The mart's columns as landed (iochub.dbt_sources.landed_columns)."""
    return [_column(c.name, c.type, c.title, c.description) for c in landed_columns(table)]


def _time_column(table: TableSpec) -> str:
    cursor = table.incremental.cursor if table.incremental else None
    if cursor and cursor in table.columns and table.columns[cursor].type in TEMPORAL:
        return cursor
    return "load_date"


def dataset_doc(source: Source, table: TableSpec) -> dict[str, Any]:
    """One source mart as a dataset in Superset's export form."""
    return {
        "always_filter_main_dttm": False,
        "cache_timeout": None,
        "catalog": None,
        "columns": _columns(table),
        "currency_code_column": None,
        "database_uuid": DATABASE_UUID,
        "default_endpoint": None,
        "description": f"{' '.join(table.title.split())} — {source.title}: the latest landed "
        "version of each record, personal data pseudonymised (generated from the registry).",
        "extra": None,
        "fetch_values_predicate": None,
        "filter_select_enabled": True,
        "folders": None,
        "main_dttm_col": _time_column(table),
        "metrics": [
            {
                "currency": None,
                "d3format": ",d",
                "description": None,
                "expression": "COUNT(*)",
                "extra": None,
                "metric_name": "count",
                "metric_type": "count",
                "verbose_name": "Số bản ghi (Records)",
                "warning_text": None,
            }
        ],
        "normalize_columns": False,
        "offset": 0,
        "params": None,
        "schema": SCHEMA,
        "sql": None,
        "table_name": mart_name(source, table),
        "template_params": None,
        "uuid": dataset_uuid(source, table),
        "version": "1.0.0",
    }


def _published_tables(serving_db: Path) -> set[str]:
    if not serving_db.exists():
        return set()
    with connect_duckdb(str(serving_db), read_only=True) as con:
        rows = con.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [SCHEMA]
        ).fetchall()
    return {str(name) for (name,) in rows}


def source_datasets(settings: Settings) -> dict[str, dict[str, Any]]:
    """Bundle path → dataset document, for each source mart the serving warehouse holds.

    A mart declared but not yet published (no build since ``publish: true`` was set) gets no
    dataset: Superset would offer a table that does not exist. The next import adds it.
    """
    published = _published_tables(settings.serving_db)
    datasets = {}
    for source in load_registry(settings).values():
        if not source.publish:
            continue
        for table in source.tables:
            if mart_name(source, table) in published:
                doc = dataset_doc(source, table)
                datasets[f"{DATABASE_FOLDER}/{doc['table_name']}.yaml"] = doc
    return datasets


def generated_uuids(settings: Settings) -> set[str]:
    """The uuids of every dataset this module makes, published yet or not (export skips them)."""
    return {
        dataset_uuid(source, table)
        for source in load_registry(settings).values()
        if source.publish
        for table in source.tables
    }
