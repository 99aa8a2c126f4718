"""Entry point of the extract stage: run one registered source into the lake.

The same function runs from ``ioc extract`` and from the ``extract__<source>`` Airflow DAGs.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.kinds.files import extract_files
from connectors.landing import Manifest
from connectors.registry import Source, load_registry
from iochub.settings import Settings

KINDS: dict[str, Callable[[Source, Settings], Manifest]] = {"files": extract_files}


class UnknownSource(Exception):
    """The name asked for is not declared in the registry."""


def run_extract(name: str, settings: Settings) -> Manifest:
    sources = load_registry(settings)
    if name not in sources:
        raise UnknownSource(
            f"no source named {name!r}; declared: {', '.join(sorted(sources))} "
            "(see `ioc sources list`)"
        )
    source = sources[name]
    return KINDS[source.kind](source, settings)
