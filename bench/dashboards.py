"""The dashboards' speed: every chart's query through Superset and in DuckDB alone, and the
time the wall takes to finish rendering in Chromium.

Against a home's published ``warehouse/serving.duckdb`` and the Superset of that home (reused if
it is running, else bootstrapped, given the assets bundle and started on a free port for the run):

- **charts**: each chart's saved query context (``GET /api/v1/chart/<id>/data/?force=true``, so
  Superset's cache is skipped), best and median of N, with the rows it returns; then the SQL
  Superset generated for it (``?type=query``) run directly in DuckDB on an open read-only
  connection, best of N. The ratio is Superset's overhead over the engine: SQL generation,
  permissions, opening ``serving.duckdb`` afresh for every query (Superset's ``NullPool``; the
  cost of one open is printed under the table), pandas post-processing and JSON. A chart with no
  saved query context is timed the way its dashboard asked for it in the browser: the query
  context sent to ``POST /api/v1/chart/data`` (``asked with: dashboard``), or, for legacy charts
  such as deck.gl GeoJSON maps, ``/superset/explore_json/`` in the browser's session
  (``legacy``).
- **render**: Debian's Chromium (through Playwright, never its own browser download), logged in as
  ``admin``, opens each dashboard at ``?standalone=1`` in a 1920×1080 window; the time is from
  navigation start until every chart of the dashboard has drawn (no loading indicator left; a big
  number's figure, a table's rows, a canvas, or an error message present), read from the page's
  own clock, with two marks of the same load: the app started (DOM ready) and the last chart
  data answered. **cold** adds ``&force=true``, which the dashboard passes to each chart's data
  request (every query runs again); **warm** is the same page straight after, answered from
  Superset's data cache. The browser's own cache holds the static assets in both (each
  dashboard is loaded once first, untimed). Base-map tiles drawn after the points are not
  waited for.

``python -m bench dashboards [--home PATH] [--repeats N]``; results (with each chart's SQL)
also go to ``<home>/bench/dashboards.json``. A Superset started here had the bundle imported
for its own port, which the map's base-map URL keeps until the next ``ioc superset import``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import psutil
from rich.console import Console
from rich.table import Table

from iochub import processes, superset
from iochub.browser import CHROMIUM, launch_options
from iochub.settings import Settings, get_settings

WALL_SLUG = "tong-quan-ioc"
NO_DASHBOARD = "(no dashboard)"
CHART_DATA = "/api/v1/chart/data"
LEGACY_DATA = "/superset/explore_json/"
WIDTH, HEIGHT = 1920, 1080
RENDER_TIMEOUT_MS = 180_000

# Polled on every animation frame; returns the page's clock (ms since navigation start) once
# every chart has drawn. innerText is read last: it is slow on tables of thousands of cells.
_RENDERED_JS = """
(expected) => {
  const charts = document.querySelectorAll('[data-test=chart-grid-component]');
  if (charts.length < expected) return false;
  for (const chart of charts) {
    if (chart.querySelector('[data-test=loading-indicator], .loading')) return false;
    const drawn = chart.querySelector(
      '.header-line, table tbody tr, canvas, .ant-alert-error, [data-test=error-message], '
      + '.alert-danger');
    if (!drawn && !chart.innerText.includes('No results')) return false;
  }
  return performance.now();
}
"""
_PROGRESS_JS = """
() => [...document.querySelectorAll('[data-test=chart-grid-component]')].filter(chart =>
  !chart.querySelector('[data-test=loading-indicator], .loading')
  && chart.querySelector('.header-line, table tbody tr, canvas')).length
"""
_ERRORS_JS = """
() => [...document.querySelectorAll('[data-test=chart-grid-component]')].flatMap(chart => {
  const error = chart.querySelector(
    '.ant-alert-error, [data-test=error-message], .alert-danger');
  if (!error) return [];
  const title = chart.querySelector('.editable-title, [data-test=slice-header]');
  return [((title ? title.innerText : '?') + ': ' + error.innerText).slice(0, 300)];
})
"""

_DOM_READY_JS = "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"


def say(message: str) -> None:
    print(f"› {time.strftime('%H:%M:%S')} {message}", flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


# --- Superset -----------------------------------------------------------------------------------
def _running_port(settings: Settings) -> int | None:
    """Port of the Superset this home's ``ioc superset start`` left running, read from its
    command line (the home's settings may name another port than the one it was started on)."""
    pid = processes.running_pid(settings, superset.SERVICE)
    if pid is None:
        return None
    argv = psutil.Process(pid).cmdline()
    if "--bind" not in argv:
        return None
    port = int(argv[argv.index("--bind") + 1].rpartition(":")[2])
    if not superset._is_up(settings, port):
        raise SystemExit(
            f"The Superset of {settings.home} (pid {pid}) does not answer on port {port}; "
            "stop it (`ioc superset stop`) and run the benchmark again."
        )
    return port


@contextmanager
def running_superset(settings: Settings) -> Iterator[tuple[Settings, bool]]:
    """The home's running Superset (left running), or one started for the run and stopped."""
    port = _running_port(settings)
    if port is not None:
        say(f"reusing the Superset running for {settings.home} on port {port}")
        yield replace(settings, superset_port=port), True
        return
    # Browsers must reach this instance, not whatever IOC_SUPERSET_PUBLIC_URL names.
    own = replace(settings, superset_port=processes.free_port(), superset_public_url=None)
    say(f"Superset: bootstrap, import the bundle, start on port {own.superset_port}")
    superset.bootstrap(own, echo=False)
    superset.import_assets(own)
    superset.start(own)
    try:
        yield own, False
    finally:
        superset.stop(own)
        # Not re-imported here: on the home's own port another home's Superset may answer.
        say(
            f"Superset stopped. The map's base-map URL now names port {own.superset_port}: "
            "`ioc superset import` with the home's Superset running (`make demo` does it) "
            "gives it the home's port back."
        )


class ChartFailed(Exception):
    """Superset answered a chart's data request with an error (the message is Superset's)."""


def _result(response: Any) -> list[dict[str, Any]]:
    """The results of a chart data answer: from httpx or Playwright, of the chart data API or of
    the legacy endpoint (one result, at the top level)."""
    if hasattr(response, "status_code"):
        status, text = response.status_code, response.text
    else:
        status, text = response.status, response.text()
    try:
        body = json.loads(text)
    except ValueError:
        raise ChartFailed(f"HTTP {status}: {text[:300]}") from None
    if status != 200:
        raise ChartFailed(f"HTTP {status}: {body.get('message') or body.get('errors')}")
    result: list[dict[str, Any]] = body.get("result", [body])
    failed = [r.get("error") or r.get("errors") for r in result]
    if any(failed):
        raise ChartFailed(str(next(f for f in failed if f))[:300])
    return result


def _dashboards(api: superset._Api) -> list[dict[str, Any]]:
    """Every dashboard with its charts, the wall first; charts on none as a last group."""
    listing = api.list_all("dashboard")
    listing.sort(key=lambda d: (d["slug"] != WALL_SLUG, d["dashboard_title"]))
    groups = []
    for dashboard in listing:
        charts = api.get(f"/api/v1/dashboard/{dashboard['id']}/charts").json()["result"]
        groups.append(
            {
                "slug": dashboard["slug"] or str(dashboard["id"]),
                "title": dashboard["dashboard_title"],
                "charts": [c["id"] for c in charts],
            }
        )
    placed = {chart_id for group in groups for chart_id in group["charts"]}
    loose = [c["id"] for c in api.list_all("chart") if c["id"] not in placed]
    if loose:
        groups.append({"slug": NO_DASHBOARD, "title": "", "charts": loose})
    return groups


@dataclass
class Route:
    """How a chart's data is asked for: ``fetch`` is the timed request (force=true), ``sql``
    gives the SQL Superset runs for it."""

    name: str
    fetch: Callable[[], Any]
    sql: Callable[[], list[str]]


def _route(
    api: superset._Api, page: Any, base: str, chart_id: int, sent: dict[str, Any] | None
) -> tuple[Route, list[str] | None]:
    """The chart's saved query context; failing that, what its dashboard sent: a query context
    built in the browser from the chart's form data, or, for legacy charts (deck.gl GeoJSON),
    the legacy endpoint. Also the dashboard's SQL where both exist, to compare."""
    path = f"/api/v1/chart/{chart_id}/data/"
    saved = Route(
        "saved",
        lambda: api.client.get(path, params={"force": "true"}),
        lambda: [r["query"] for r in _result(api.client.get(path, params={"type": "query"}))],
    )
    if sent is None:
        return saved, None
    if sent["endpoint"] == LEGACY_DATA:
        # The legacy view takes the browser's session, not the API's token; given only the
        # chart's id it runs the chart's saved form data, as the dashboard does.
        url = base + LEGACY_DATA
        form = {"form_data": json.dumps({"slice_id": chart_id})}
        return Route(
            "legacy",
            lambda: page.request.post(url + "?force=true", multipart=form),
            lambda: [_result(page.request.post(url + "?query=true", multipart=form))[0]["query"]],
        ), None
    body = sent["body"]
    dashboard = Route(
        "dashboard",
        lambda: api.client.post(CHART_DATA, json={**body, "force": True}),
        lambda: [
            r["query"]
            for r in _result(api.client.post(CHART_DATA, json={**body, "result_type": "query"}))
        ],
    )
    if api.client.get(path, params={"type": "query"}).status_code != 200:
        return dashboard, None
    return saved, dashboard.sql()


def measure_chart(
    api: superset._Api,
    page: Any,
    base: str,
    con: duckdb.DuckDBPyConnection,
    chart: dict[str, Any],
    sent: dict[str, Any] | None,
    repeats: int,
) -> dict[str, Any]:
    """One chart through Superset and its SQL in DuckDB. ``sent`` is what its dashboard asked
    for in the browser, if it was seen."""
    row: dict[str, Any] = {
        "id": chart["id"],
        "name": chart["slice_name"],
        "viz_type": chart["viz_type"],
    }
    try:
        route, dashboard_sql = _route(api, page, base, chart["id"], sent)
        row["query_from"] = route.name
        queries = route.sql()
        if dashboard_sql is not None and dashboard_sql != queries:
            row["dashboard_sql"] = dashboard_sql
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            response = route.fetch()
            times.append(time.perf_counter() - start)
            first = _result(response)[0]
    except ChartFailed as exc:
        row["error"] = str(exc)
        return row
    row["rows"] = first.get("rowcount") or len(first.get("data") or [])
    row["superset_ms"] = [ms(t) for t in times]
    row["sql"] = queries

    def run_in_duckdb() -> None:
        for query in queries:
            con.execute(query).fetchall()

    try:
        row["duckdb_ms"] = [ms(t) for t in timed(run_in_duckdb, repeats)]
    except duckdb.Error as exc:
        row["duckdb_error"] = str(exc)[:300]
    return row


def measure_charts(
    settings: Settings,
    page: Any,
    groups: list[dict[str, Any]],
    sent: dict[int, dict[str, Any]],
    repeats: int,
) -> dict[int, dict[str, Any]]:
    api = superset._Api(settings)
    base = superset.public_url(settings)
    con = duckdb.connect(str(settings.serving_db), read_only=True)
    try:
        charts = {c["id"]: c for c in api.list_all("chart")}
        results: dict[int, dict[str, Any]] = {}
        for group in groups:
            for chart_id in group["charts"]:
                if chart_id in results:
                    continue
                chart = charts[chart_id]
                say(f"chart {chart_id} {chart['slice_name']} ({group['slug']})")
                results[chart_id] = measure_chart(
                    api, page, base, con, chart, sent.get(chart_id), repeats
                )
        return results
    finally:
        con.close()
        api.close()


# --- the render in Chromium ---------------------------------------------------------------------
@contextmanager
def chromium(settings: Settings) -> Iterator[Any]:
    """A Chromium page logged in to Superset as ``admin``."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: `apt-get install -y chromium` (as root).")
    base = superset.public_url(settings)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            page = context.new_page()
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            page.goto(f"{base}/login/")
            page.fill("#username", superset.ADMIN_USER)
            page.fill("#password", settings.admin_password)
            page.click("[data-test=login-button]")
            page.wait_for_url(lambda url: "/login" not in url)
            yield page
        finally:
            browser.close()


def _load(page: Any, url: str, expected: int) -> dict[str, Any]:
    """One load of a dashboard: ms until every chart drew, how many data requests the cache
    answered, the charts that show an error, and the body of each chart's data request."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    responses: list[Any] = []

    def on_response(response: Any) -> None:
        if CHART_DATA in response.url or LEGACY_DATA in response.url:
            responses.append(response)

    page.on("response", on_response)
    try:
        page.goto(url, wait_until="commit")
        try:
            handle = page.wait_for_function(
                _RENDERED_JS, arg=expected, polling="raf", timeout=RENDER_TIMEOUT_MS
            )
        except PlaywrightTimeout:
            drawn = page.evaluate(_PROGRESS_JS)
            return {"error": f"not drawn in {RENDER_TIMEOUT_MS / 1000:.0f} s: {drawn}/{expected}"}
        cached = 0
        sent = {}
        origin = float(page.evaluate("performance.timeOrigin"))
        answered = [
            r.request.timing["startTime"] + r.request.timing["responseEnd"] - origin
            for r in responses
        ]
        for response in responses:
            if LEGACY_DATA in response.url:
                # The legacy request's body is multipart; the chart's id is in its URL.
                asked = json.loads(parse_qs(urlparse(response.url).query)["form_data"][0])
                sent[asked["slice_id"]] = {"endpoint": LEGACY_DATA}
            else:
                body = response.request.post_data_json
                sent[body["form_data"]["slice_id"]] = {"endpoint": CHART_DATA, "body": body}
            try:
                results = _result(response)
            except ChartFailed:
                continue
            cached += all(r.get("is_cached") for r in results)
        return {
            "ms": round(float(handle.json_value()), 1),
            # The app's own start (HTML, scripts run), before any chart is asked for.
            "dom_ready_ms": round(float(page.evaluate(_DOM_READY_JS)), 1),
            "data_answered_ms": round(max(answered, default=0.0), 1),
            "requests": len(responses),
            "cached": cached,
            "chart_errors": page.evaluate(_ERRORS_JS),
            "sent": sent,
        }
    finally:
        page.remove_listener("response", on_response)


def _url(settings: Settings, group: dict[str, Any]) -> str:
    return f"{superset.public_url(settings)}/superset/dashboard/{group['slug']}/?standalone=1"


def first_loads(
    page: Any, settings: Settings, groups: list[dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Each dashboard once, untimed: the static assets go into the browser's cache, and each
    chart's data request is kept to time the charts that have no saved query context."""
    sent: dict[int, dict[str, Any]] = {}
    for group in groups:
        if group["slug"] != NO_DASHBOARD:
            say(f"first load of {group['slug']} in Chromium")
            sent.update(_load(page, _url(settings, group), len(group["charts"])).get("sent", {}))
    return sent


def measure_renders(
    page: Any, settings: Settings, groups: list[dict[str, Any]], repeats: int
) -> list[dict[str, Any]]:
    results = []
    for group in groups:
        if group["slug"] == NO_DASHBOARD:
            continue
        url, expected = _url(settings, group), len(group["charts"])
        say(f"render {group['slug']} ({expected} charts) in Chromium, cold then warm")
        loads = {
            "cold": [_load(page, url + "&force=true", expected) for _ in range(repeats)],
            "warm": [_load(page, url, expected) for _ in range(repeats)],
        }
        for load in loads["cold"] + loads["warm"]:
            load.pop("sent", None)
        results.append({"slug": group["slug"], "charts": expected, **loads})
    return results


# --- report -------------------------------------------------------------------------------------
def _p50_best(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} / {min(values):,.0f}"


def _loads_cell(loads: list[dict[str, Any]]) -> str:
    times = [load["ms"] for load in loads if "ms" in load]
    if not times:
        return "failed"
    failed = len(loads) - len(times)
    return _p50_best(times) + (f" ({failed} failed)" if failed else "")


def report(result: dict[str, Any]) -> None:
    console = Console(width=200)
    charts = {row["id"]: row for row in result["charts"]}
    table = Table(
        title=f"Chart queries through Superset (force, no cache) and in DuckDB alone — "
        f"{result['province']}, best of {result['repeats']}"
    )
    for column in ("dashboard", "chart", "viz type", "asked with"):
        table.add_column(column)
    table.add_column("rows", justify="right")
    for column in ("Superset ms p50 / best", "DuckDB best ms", "ratio"):
        table.add_column(column, justify="right")
    for group in result["dashboards"]:
        for index, chart_id in enumerate(group["charts"]):
            row = charts[chart_id]
            name = f"{row['name']} [{chart_id}]"
            if "error" in row:
                cells = ["–", "error", "–", "–"]
            elif "duckdb_error" in row:
                cells = [f"{row['rows']:,}", _p50_best(row["superset_ms"]), "error", "–"]
            else:
                superset_best, duck_best = min(row["superset_ms"]), min(row["duckdb_ms"])
                cells = [
                    f"{row['rows']:,}",
                    _p50_best(row["superset_ms"]),
                    f"{duck_best:,.1f}",
                    f"{superset_best / max(duck_best, 0.1):,.0f}×",
                ]
            table.add_row(
                group["slug"] if index == 0 else "",
                name,
                row["viz_type"],
                row.get("query_from", "–"),
                *cells,
            )
        table.add_section()
    console.print(table)
    console.print(
        f"Opening serving.duckdb read-only (Superset does it per query): "
        f"best {min(result['duckdb_open_ms']):,.1f} ms."
    )
    renders = Table(
        title=f"Dashboards rendered in Chromium ({WIDTH}×{HEIGHT}, standalone), ms from "
        f"navigation start: every chart drawn (p50 / best of {result['repeats']}); in the best "
        "load, the app started (DOM ready) and the last chart data answered"
    )
    renders.add_column("dashboard")
    for column in ("charts", "cold (force)", "app, data", "warm", "app, data", "warm cached"):
        renders.add_column(column, justify="right")
    for render in result["renders"]:
        cells = []
        for kind in ("cold", "warm"):
            loaded = [load for load in render[kind] if "ms" in load]
            best = min(loaded, key=lambda load: float(load["ms"])) if loaded else {}
            cells += [
                _loads_cell(render[kind]),
                f"{best['dom_ready_ms']:,.0f}, {best['data_answered_ms']:,.0f}" if best else "–",
            ]
        cells.append(f"{best['cached']}/{best['requests']}" if best else "–")
        renders.add_row(
            render["slug"] + (" (the wall)" if render["slug"] == WALL_SLUG else ""),
            str(render["charts"]),
            *cells,
        )
    console.print(renders)
    console.print(f"Load average at the end (the machine's other work): {result['load_average']}")
    problems = [f"chart {row['id']} {row['name']}: {row['error']}" for row in result["charts"]
                if "error" in row]  # fmt: skip
    problems += [f"chart {row['id']} {row['name']} in DuckDB: {row['duckdb_error']}"
                 for row in result["charts"] if "duckdb_error" in row]  # fmt: skip
    missing = [row["id"] for row in result["charts"] if row.get("query_from") == "dashboard"]
    if missing:
        problems.append(
            "no saved query context (timed with the one the dashboard sends; "
            f"/api/v1/chart/<id>/data/ refuses them): charts {missing}"
        )
    problems += [f"chart {row['id']} {row['name']}: its saved query context asks other SQL than "
                 "its dashboard (a cache warmed from it is not what the wall reads)"
                 for row in result["charts"] if "dashboard_sql" in row]  # fmt: skip
    for render in result["renders"]:
        for load in render["cold"] + render["warm"]:
            problems += [f"{render['slug']}: {load['error']}"] if "error" in load else []
            problems += [f"{render['slug']} shows {e}" for e in load.get("chart_errors", [])]
    for problem in dict.fromkeys(problems):
        console.print(f"[red]{problem}[/red]")


def _province(settings: Settings) -> str:
    """What the warehouse was built from, as far as the home's demo province tells."""
    manifest = settings.sim_dir / "manifest.json"
    size = f"serving.duckdb {settings.serving_db.stat().st_size / 2**20:,.0f} MB"
    if not manifest.exists():
        return size
    params = json.loads(manifest.read_text())
    return f"province scale {params['scale']}, {params['start']}..{params['end']}, {size}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench dashboards",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--home", type=Path, help="IOC_HOME with a published warehouse (default: the current)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each measure")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.home:
        # Before Settings are built: Superset's files and pid go under that home.
        os.environ["IOC_HOME"] = str(args.home.resolve())
    settings = get_settings()
    if not settings.serving_db.exists():
        raise SystemExit(
            f"No published warehouse at {settings.serving_db}. Make one in that home with the "
            "demo province: `ioc sim generate --scale 0.01 && ioc sim serve && ioc run && "
            "ioc sim stop` (IOC_HOME set to the home). For scale 1: `ioc sim generate --scale 1 "
            "--start 2025-01-01 --end 2025-12-31` (about 13 minutes and 45 GB; "
            "`python -m bench scale1` only times this and deletes what it wrote), then the same "
            "`ioc sim serve && ioc run` (about an hour of landing)."
        )
    with running_superset(settings) as (live, reused), chromium(live) as page:
        api = superset._Api(live)
        try:
            groups = _dashboards(api)
        finally:
            api.close()
        say(f"{sum(len(g['charts']) for g in groups)} charts on {len(groups)} dashboards")
        sent = first_loads(page, live, groups)
        charts = measure_charts(live, page, groups, sent, args.repeats)

        def open_serving() -> None:
            duckdb.connect(str(live.serving_db), read_only=True).close()

        result: dict[str, Any] = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "home": str(live.home),
            "province": _province(live),
            "superset": {"port": live.superset_port, "reused": reused},
            "repeats": args.repeats,
            "duckdb_open_ms": [ms(t) for t in timed(open_serving, args.repeats)],
            "dashboards": groups,
            "charts": list(charts.values()),
            "renders": measure_renders(page, live, groups, args.repeats),
            "load_average": [round(load, 1) for load in os.getloadavg()],
        }
    out = live.home / "bench" / "dashboards.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report(result)
    print(f"Written {out}")
