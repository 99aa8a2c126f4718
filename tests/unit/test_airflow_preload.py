"""The scheduler preloads what the extract tasks import and the parsed registry, so the tasks it
forks start with them; other Airflow processes do not."""

from __future__ import annotations

import subprocess
import sys

import pytest

from iochub.airflow_services import airflow_env
from iochub.settings import get_settings

CHECK = (
    "import sys\n"
    "sys.argv = ['airflow', {command!r}]\n"
    "import airflow_local_settings\n"
    "print(sorted(m for m in ('connectors.extract', 'expectations.landing', "
    "'great_expectations') if m in sys.modules))\n"
    "registry = sys.modules.get('connectors.registry')\n"
    "print(len(registry._PARSED) if registry else 0)\n"
)


@pytest.mark.parametrize(
    ("command", "loaded", "registries"),
    [
        ("scheduler", ["connectors.extract", "expectations.landing", "great_expectations"], 1),
        ("api-server", [], 0),
        ("dag-processor", [], 0),
    ],
)
def test_only_the_scheduler_preloads_the_task_modules(
    command: str, loaded: list[str], registries: int
) -> None:
    env = airflow_env(get_settings())
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(command=command)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split("\n")[:2] == [str(loaded), str(registries)]


def test_airflow_gets_the_task_slots_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert airflow_env(get_settings())["AIRFLOW__CORE__PARALLELISM"] == "4"
    monkeypatch.setenv("IOC_AIRFLOW_PARALLELISM", "12")
    assert airflow_env(get_settings())["AIRFLOW__CORE__PARALLELISM"] == "12"
