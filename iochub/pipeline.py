"""The whole flow in one call, without a scheduler: extract every source, build, gate, publish.

This is what ``ioc run`` does and what the tests use to make a serving warehouse; the Airflow
DAGs run the same functions as separate tasks. A source that is down or broken fails alone:
its error is recorded, the others land, and the warehouse is built from what the lake holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connectors.contract import SchemaDriftError
from connectors.extract import run_extract
from connectors.kinds.base import SourceUnavailable
from connectors.landing import LandingError, Manifest, new_run_id
from connectors.registry import load_registry
from iochub.settings import Settings
from iochub.warehouse import BuildOutcome, build_and_publish

log = logging.getLogger(__name__)


@dataclass
class ExtractOutcome:
    manifests: dict[str, Manifest] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def extract_all(settings: Settings, names: list[str] | None = None) -> ExtractOutcome:
    outcome = ExtractOutcome()
    for name in names or list(load_registry(settings)):
        try:
            outcome.manifests[name] = run_extract(name, settings)
        except (SourceUnavailable, SchemaDriftError, LandingError) as exc:
            log.error("%s: extract failed: %s", name, exc)
            outcome.failures[name] = str(exc)
    return outcome


def run_pipeline(settings: Settings, names: list[str] | None = None) -> BuildOutcome:
    extract_all(settings, names)
    return build_and_publish(settings, run_id=new_run_id())
