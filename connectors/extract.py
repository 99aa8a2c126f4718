"""Entry point of the extract stage: run one registered source into the lake.

The same function runs from ``ioc extract`` and from the ``extract__<source>`` Airflow DAGs.
Kinds are imported when used, so a DAG file that only reads the registry stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from connectors.kinds.base import ExtractOptions, ExtractRun
from connectors.landing import Manifest, record_failure
from connectors.registry import Source, load_registry
from iochub.settings import Settings

KINDS = {
    "files": "connectors.kinds.files:extract_files",
    "sql": "connectors.kinds.sql:extract_sql",
    "rest": "connectors.kinds.rest:extract_rest",
    "mqtt": "connectors.kinds.mqtt:extract_mqtt",
}


class UnknownSource(Exception):
    """The name asked for is not declared in the registry."""


def kind_function(kind: str) -> Callable[[ExtractRun], None]:
    module, _, function = KINDS[kind].partition(":")
    extract: Callable[[ExtractRun], None] = getattr(importlib.import_module(module), function)
    return extract


def extract_source(
    source: Source, settings: Settings, options: ExtractOptions | None = None
) -> Manifest:
    """Run ``source`` into the lake; a failure is recorded in the lake, then raised."""
    with ExtractRun(source, settings, options) as run:
        try:
            kind_function(source.kind)(run)
            return run.commit()
        except Exception as exc:
            record_failure(settings, source.name, run.run_id, exc)
            raise


def run_extract(
    name: str,
    settings: Settings,
    options: ExtractOptions | None = None,
    sources: dict[str, Source] | None = None,
) -> Manifest:
    """Extract the source named ``name`` from ``sources`` (the registry, read when not given)."""
    sources = load_registry(settings) if sources is None else sources
    if name not in sources:
        raise UnknownSource(
            f"no source named {name!r}; declared: {', '.join(sorted(sources))} "
            "(see `ioc sources list`)"
        )
    return extract_source(sources[name], settings, options)
