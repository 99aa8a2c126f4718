"""The demo's clock (``ioc sim tick``): the province lives a day per tick, and Airflow hears of it.

A real province's systems fill up over days; the demo compresses that. Each tick moves the
simulated province one day on (``simulator.advance``: new XML 130 files, dossiers that
progress, new station readings…) and then asks Airflow's scheduler, through its REST API, for a
run of every ``extract__<source>`` DAG whose schedule falls within that simulated day — what the
scheduler itself would have started had the day passed in real time. The extract runs land the
new records as Asset events, and ``build_warehouse`` republishes on them: the wall moves a day
per tick. The DAGs keep their own (real-time) schedules as well.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as day_time

import httpx
from croniter import croniter  # type: ignore[import-untyped]

from connectors.registry import load_registry
from connectors.source_lock import holder
from iochub.settings import Settings
from simulator.advance import AdvanceResult, advance

log = logging.getLogger(__name__)

# Airflow's schedule presets, as cron.
PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
}


def due_on(schedule: str | None, day: date) -> bool:
    """Whether ``schedule`` (cron or an Airflow preset) fires at least once during ``day``."""
    if not schedule or schedule in ("@once", "@continuous"):
        return False
    expression = PRESETS.get(schedule, schedule)
    start = datetime.combine(day, day_time.min)
    fires: datetime = croniter(expression, start - timedelta(microseconds=1)).get_next(datetime)
    return fires < start + timedelta(days=1)


class AirflowApi:
    """Just enough of Airflow 3's REST API: a token from the simple auth manager, a DAG run."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": user, "password": password}
        self._client = httpx.Client(base_url=self.base_url, timeout=30)
        self._token: str | None = None
        self._asset_ids: dict[str, int] = {}

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            answer = self._client.post("/auth/token", json=self._credentials)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}"}

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A call with a fresh token when the old one expired, retried on a 5xx: the demo's
        SQLite metadata database answers "locked" while the scheduler writes."""
        for attempt in range(4):
            answer = self._client.request(method, path, headers=self._headers(), **kwargs)  # type: ignore[arg-type]
            if answer.status_code == 401:
                self._token = None
            elif answer.status_code < 500:
                break
            time.sleep(2**attempt)
        answer.raise_for_status()
        return answer

    @classmethod
    def of(cls, settings: Settings) -> AirflowApi:
        """The API of the Airflow iochub runs for ``settings`` (``ioc demo``'s)."""
        return cls(f"http://127.0.0.1:{settings.airflow_port}", "admin", settings.admin_password)

    def asset_event(self, name: str, extra: dict[str, object]) -> None:
        """Record that the Asset ``name`` was updated outside a task (a listener landed it), so
        the DAGs scheduled on it run as after an extract task."""
        if name not in self._asset_ids:
            found = self.request(
                "GET", "/api/v2/assets", params={"name_pattern": name, "limit": 100}
            ).json()["assets"]
            ids = [asset["id"] for asset in found if asset["name"] == name]
            if not ids:
                raise LookupError(
                    f"Airflow knows no Asset {name!r}: has the DAG processor parsed the DAGs?"
                )
            self._asset_ids[name] = int(ids[0])
        body = {"asset_id": self._asset_ids[name], "extra": extra}
        self.request("POST", "/api/v2/assets/events", json=body)

    def trigger(self, dag_id: str, note: str) -> str:
        """Queue a run of ``dag_id`` now; returns its run id."""
        body = {"logical_date": None, "note": note}
        answer = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        return str(answer.json()["dag_run_id"])


def due_sources(settings: Settings, day: date) -> list[str]:
    """The sources whose extract DAG the clock triggers for ``day``: due on their schedule,
    and not landed continuously by a listener (its DAG run would only skip)."""
    due = []
    for source in load_registry(settings).values():
        if not due_on(source.schedule, day):
            continue
        held = holder(settings, source.name)
        if not (held and held.get("listener")):
            due.append(source.name)
    return due


def tick(settings: Settings, api: AirflowApi) -> tuple[AdvanceResult, list[str]]:
    """Move the province one day on, then trigger the extract DAGs due on that day."""
    result = advance(
        settings.sim_dir,
        24,
        settings.sim_pg_url,
        settings.sim_mysql_url,
        settings.sim_db_prefix,
    )
    triggered = []
    for name in due_sources(settings, result.new_end):
        dag_id = f"extract__{name}"
        try:
            api.trigger(dag_id, note=f"demo clock: province day {result.new_end}")
            triggered.append(dag_id)
        except httpx.HTTPError as exc:
            log.warning("could not trigger %s (is Airflow up?): %s", dag_id, exc)
    return result, triggered


def run_ticker(
    settings: Settings,
    api: AirflowApi,
    every_seconds: float,
    ticks: int | None,
    say: Callable[[str], None],
) -> None:
    """Tick every ``every_seconds`` (``ticks`` times, or until stopped)."""
    done = 0
    while ticks is None or done < ticks:
        result, triggered = tick(settings, api)
        done += 1
        say(
            f"province day {result.new_end}: {len(result.added)} new file(s), "
            f"{len(result.replaced)} updated; triggered {len(triggered)} extract DAG(s)"
        )
        if ticks is None or done < ticks:
            time.sleep(every_seconds)
