"""The health dashboard, end to end: pipeline → serving.duckdb → Superset → Chromium.

Builds a serving warehouse with ``run_pipeline`` in a temporary IOC_HOME, bootstraps Superset
there, imports the assets bundle (offline, then again through the API: idempotent), starts it on
a free port, and checks the dashboard in Chromium as a user sees it: every chart draws without an
error, the big number equals the warehouse's count, the map draws points on the offline base map,
and no request leaves the machine. Screenshot: ``data/artifacts/dashboard.png``.

Run: ``.venv/bin/pytest -m e2e tests/e2e -v``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest
import yaml

from iochub import superset
from iochub.settings import Settings
from tests.e2e.conftest import PIXELS_JS
from tests.fixtures_truth import VALID_EPISODES

pytestmark = pytest.mark.e2e

DASHBOARD_SLUG = "y-te-luot-kham"
# The three charts of the health episodes the fixture holds (the dashboard's KPI table needs
# more sources than this warehouse has: tests/e2e/test_dashboards.py covers it).
CHART_VIZ_TYPES = {"big_number_total", "echarts_timeseries_line", "deck_scatter"}
BUNDLE_DASHBOARDS = {
    yaml.safe_load(p.read_text(encoding="utf-8"))["dashboard_title"]
    for p in (superset.BUNDLE_DIR / "dashboards").glob("*.yaml")
}
BUNDLE_CHARTS = len(list((superset.BUNDLE_DIR / "charts").glob("*.yaml")))
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def superset_site(ioc_home: Settings, serving_db: Path) -> Iterator[Settings]:
    settings = ioc_home
    superset.bootstrap(settings, echo=False)
    assert superset.bootstrap(settings, echo=False) == [], "bootstrap is not idempotent"
    assert superset.import_assets(settings) == "offline"
    superset.start(settings)
    try:
        assert superset.import_assets(settings) == "rest"  # re-import over the API
        yield settings
    finally:
        superset.stop(settings)


def episode_count(settings: Settings) -> int:
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM marts.fct_health_episode").fetchall()[0]
    return int(row[0])


def test_bundle_imported_once_and_chart_data_answers(superset_site: Settings) -> None:
    api = superset._Api(superset_site)
    try:
        dashboards = api.list_all("dashboard")
        assert {d["dashboard_title"] for d in dashboards} == BUNDLE_DASHBOARDS
        assert len(dashboards) == len(BUNDLE_DASHBOARDS), "re-import duplicated dashboards"
        charts = api.list_all("chart")
        assert len(charts) == BUNDLE_CHARTS, "re-import duplicated charts"
        for chart in charts:
            if chart["viz_type"] == "deck_geojson":  # drawn through the legacy endpoint
                continue
            response = api.client.get(f"/api/v1/chart/{chart['id']}/data/")
            assert response.status_code == 200, (chart["slice_name"], response.text[:500])
    finally:
        api.close()


def test_cache_warm_up_after_publish_answers_every_chart(superset_site: Settings) -> None:
    warmed = superset.warm_up_cache(superset_site)
    assert warmed is not None, "Superset is running: the cache must be warmed"
    assert set(warmed.values()) == {"success"}
    assert len(warmed) == BUNDLE_CHARTS


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme not in {"http", "https", "ws", "wss"} or parsed.hostname in LOCAL_HOSTS


def test_dashboard_in_chromium(
    superset_site: Settings, chromium_launch: dict[str, Any], artifacts_dir: Path
) -> None:
    from playwright.sync_api import Route, sync_playwright

    settings = superset_site
    base = superset.public_url(settings)
    expected = episode_count(settings)
    assert expected == VALID_EPISODES  # the warehouse holds the fixture's known answer
    requested: list[str] = []
    blocked_in_browser: dict[str, str] = {}
    escaped: list[str] = []  # outside requests that got past the page's own policy
    tile_responses: list[int] = []

    def outside(route: Route) -> None:
        escaped.append(route.request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1600})
            context.route(lambda url: not _is_local(url), outside)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda request: requested.append(request.url))
            page.on(
                "requestfailed",
                lambda request: blocked_in_browser.__setitem__(request.url, request.failure or ""),
            )
            page.on(
                "response",
                lambda response: (
                    tile_responses.append(response.status)
                    if "/ioc-tiles/" in response.url
                    else None
                ),
            )

            page.goto(f"{base}/login/")
            page.fill("#username", superset.ADMIN_USER)
            page.fill("#password", settings.admin_password)
            page.click("[data-test=login-button]")
            page.wait_for_url(lambda url: "/login" not in url)

            page.goto(f"{base}/superset/dashboard/{DASHBOARD_SLUG}/")
            charts = page.locator("[data-test=chart-grid-component]")
            page.wait_for_function(
                "n => document.querySelectorAll('[data-test=chart-grid-component]').length >= n",
                arg=len(CHART_VIZ_TYPES),
            )
            assert {
                charts.nth(i).get_attribute("data-test-viz-type") for i in range(charts.count())
            } >= CHART_VIZ_TYPES
            big_number = page.locator("[data-test-viz-type=big_number_total] .header-line")
            big_number.wait_for(state="visible")
            page.locator("[data-test-viz-type=echarts_timeseries_line] canvas").first.wait_for()
            map_chart = page.locator("[data-test-viz-type=deck_scatter]")
            map_canvas = map_chart.locator("canvas").first
            map_canvas.wait_for(state="visible")
            page.wait_for_function(
                "() => !document.querySelector('[data-test=chart-grid-component] "
                "[data-test=loading-indicator], [data-test=chart-grid-component] .loading')"
            )

            # No chart shows an error or an empty result.
            errors = page.locator(
                "[data-test=chart-grid-component] .ant-alert-error, "
                "[data-test=chart-grid-component] [data-test=error-message], "
                "[data-test=chart-grid-component] .alert-danger"
            )
            assert errors.count() == 0, errors.all_inner_texts()
            for text in ("No results", "Unexpected error", "Error:"):
                for viz in CHART_VIZ_TYPES:
                    holder = page.locator(f"[data-test-viz-type={viz}]", has_text=text)
                    assert holder.count() == 0, (viz, text)

            # The big number is the warehouse's count of episodes.
            shown = big_number.inner_text()
            assert int(re.sub(r"\D", "", shown)) == expected, (shown, expected)

            # The map draws: canvas present, points in the chart's colour on the offline tile.
            box = map_canvas.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 300
            pixels: dict[str, Any] = {"points": 0, "tile": 0, "total": 1}
            for _ in range(60):  # wait (≤ ~60 s) for tiles and points, not a timed assertion
                shot = base64.b64encode(map_chart.screenshot()).decode()
                pixels = page.evaluate(PIXELS_JS, shot)
                if pixels["points"] > 30 and pixels["tile"] > pixels["total"] * 0.3:
                    break
                page.wait_for_timeout(1000)
            assert pixels["points"] > 30, f"no points drawn on the map: {pixels}"
            assert pixels["tile"] > pixels["total"] * 0.3, f"offline base map missing: {pixels}"
            assert tile_responses and set(tile_responses) == {200}, tile_responses

            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(500)
            page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)
        finally:
            browser.close()

    # Nothing left the machine. The only outside address Superset 6.1's page asks for is its
    # telemetry pixel, which our content-security policy stops inside the browser.
    outside_requests = sorted({url for url in requested if not _is_local(url)})
    not_blocked = [
        url for url in outside_requests if "csp" not in blocked_in_browser.get(url, "").lower()
    ]
    assert escaped == [], f"requests to outside hosts reached the network layer: {escaped}"
    assert not_blocked == [], f"outside requests not blocked by the CSP: {not_blocked}"
