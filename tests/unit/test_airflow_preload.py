"""The scheduler preloads what the extract tasks import, so the tasks it forks start with it;
other Airflow processes do not."""

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
)


@pytest.mark.parametrize(
    ("command", "loaded"),
    [
        ("scheduler", ["connectors.extract", "expectations.landing", "great_expectations"]),
        ("api-server", []),
        ("dag-processor", []),
    ],
)
def test_only_the_scheduler_preloads_the_task_modules(command: str, loaded: list[str]) -> None:
    env = airflow_env(get_settings())
    done = subprocess.run(
        [sys.executable, "-c", CHECK.format(command=command)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(loaded)
