"""Airflow's local settings hook (imported by every Airflow process at start): the scheduler
imports what the extract tasks need before it forks its LocalExecutor workers.

A task process is forked from a LocalExecutor worker, itself forked from the scheduler, so the
modules the scheduler has imported are already in every task's memory. Without this, each
``extract__<source>`` task imported Great Expectations (the landing suites) and the connectors
anew: measured 3-8 s of a task's run on the 2-core machine, paid by 35 tasks at every demo tick
(bench/README.md, ``tick``); the parsed source registry likewise. Other Airflow processes (API
server, DAG processor, CLI) skip it: they run no task.
"""

from __future__ import annotations

import contextlib
import sys

# Nothing here is a cluster policy or a setting: Airflow adds every name listed to its settings.
__all__: list[str] = []


def _preload_for_tasks() -> None:
    import connectors.extract  # noqa: F401
    import expectations.landing  # noqa: F401
    from connectors.registry import RegistryError, load_registry
    from iochub.settings import get_settings

    # Kept parsed for the tasks (connectors.registry._PARSED). An invalid registry is the DAG
    # processor's to report: the scheduler starts regardless.
    with contextlib.suppress(RegistryError):
        load_registry(get_settings())


if sys.argv[1:2] == ["scheduler"]:
    _preload_for_tasks()
