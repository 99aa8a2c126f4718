"""The whole flow in one call, without a scheduler: extract every source, build, gate, publish.

This is what ``ioc run`` does and what the tests use to make a serving warehouse; the Airflow
DAGs run the same functions as separate tasks.
"""

from __future__ import annotations

from connectors.extract import run_extract
from connectors.landing import Manifest, new_run_id
from connectors.registry import load_registry
from iochub.settings import Settings
from iochub.warehouse import BuildOutcome, build_and_publish


def extract_all(settings: Settings) -> dict[str, Manifest]:
    return {name: run_extract(name, settings) for name in load_registry(settings)}


def run_pipeline(settings: Settings) -> BuildOutcome:
    extract_all(settings)
    return build_and_publish(settings, run_id=new_run_id())
