"""The IOC wall and the leaders' dashboards in Chromium, on the whole demo province.

The session's province (scale 0.01, June–October 2025) is landed and built once
(``province_warehouse``); here its build warehouse gets the GIS layers, passes the publish gate
and is published into a fresh IOC_HOME, and Superset serves the bundle with its roles and
row-level rules. Each demo user logs in as themselves:

- every dashboard their role may open renders every chart without an error;
- the wall's scorecard numbers are those of ``marts.kpi_scorecard`` in ``serving.duckdb``;
- the maps draw the commune zones on the offline base map, with no failed network request and
  no request leaving the machine;
- a commune leader's tables and maps hold only their commune;
- the wall shows a new publish by itself (no reload), in kiosk mode (``?standalone=1``).

Screenshots of every dashboard go to ``data/artifacts/`` (shown in the README).
"""

from __future__ import annotations

import base64
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest
import yaml

from geo.layers import build_layers
from iochub import superset
from iochub.processes import free_port
from iochub.publish import publish
from iochub.settings import Settings, get_settings
from iochub.warehouse import gate_and_publish
from tests.e2e.conftest import PIXELS_JS

pytestmark = pytest.mark.e2e

WALL = "tong-quan-ioc"
TIMEOUT_MS = 120_000
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
ACCESS = yaml.safe_load((superset.ASSETS_DIR / "access.yaml").read_text(encoding="utf-8"))
DASHBOARD_FILES = {
    doc["slug"]: doc
    for doc in (
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((superset.BUNDLE_DIR / "dashboards").glob("*.yaml"))
    )
}
CHART_ERRORS = (
    "[data-test=chart-grid-component] .ant-alert-error, "
    "[data-test=chart-grid-component] [data-test=error-message], "
    "[data-test=chart-grid-component] .alert-danger"
)
LOADING = (
    "[data-test=chart-grid-component] [data-test=loading-indicator], "
    "[data-test=chart-grid-component] .loading"
)


def _chart_count(slug: str) -> int:
    return sum(
        1
        for item in DASHBOARD_FILES[slug]["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    )


def _role_dashboards(role: str) -> set[str]:
    (spec,) = [r for r in ACCESS["roles"] if r["name"] == role]
    return set(DASHBOARD_FILES) if spec["dashboards"] == "all" else set(spec["dashboards"])


def _user(role: str) -> dict[str, Any]:
    return next(u for u in ACCESS["users"] if u["role"] == role)


@pytest.fixture(scope="module")
def wall_site(
    province_warehouse: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A fresh IOC_HOME holding the province's warehouse, published with its GIS layers, and
    Superset serving the bundle there on a free port."""
    home = tmp_path_factory.mktemp("wall") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_HOME", str(home))
        patch.setenv("IOC_SUPERSET_PORT", str(free_port()))
        patch.delenv("IOC_SUPERSET_PUBLIC_URL", raising=False)
        settings = get_settings()
        settings.warehouse_dir.mkdir(parents=True)
        shutil.copy2(province_warehouse.build_db, settings.build_db)
        build_layers(settings)
        gate_and_publish(settings, "e2e-wall")
        superset.bootstrap(settings, echo=False)
        superset.start(settings)
        try:
            superset.import_assets(settings)
            yield settings
        finally:
            superset.stop(settings)


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme not in {"http", "https", "ws", "wss"} or parsed.hostname in LOCAL_HOSTS


class Browser:
    """One logged-in Chromium page that records what it asked the network for."""

    def __init__(self, playwright: Any, launch: dict[str, Any], base: str) -> None:
        self.base = base
        self.browser = playwright.chromium.launch(**launch)
        self.context = self.browser.new_context(viewport={"width": 1920, "height": 1080})
        self.escaped: list[str] = []
        self.failed: dict[str, str] = {}
        self.tiles: list[int] = []
        self.context.route(lambda url: not _is_local(url), self._outside)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("requestfailed", lambda r: self.failed.__setitem__(r.url, r.failure or ""))
        self.page.on(
            "response",
            lambda r: self.tiles.append(r.status) if "/ioc-tiles/" in r.url else None,
        )

    def _outside(self, route: Any) -> None:
        self.escaped.append(route.request.url)
        route.abort()

    def login(self, username: str, password: str) -> None:
        self.page.goto(f"{self.base}/login/")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("[data-test=login-button]")
        self.page.wait_for_url(lambda url: "/login" not in url)

    def open(self, slug: str) -> None:
        self.page.goto(f"{self.base}/superset/dashboard/{slug}/?standalone=1")
        self.page.wait_for_function(
            "n => document.querySelectorAll('[data-test=chart-grid-component]').length >= n",
            arg=_chart_count(slug),
        )
        # Charts below the fold render when scrolled to.
        for y in range(0, 5000, 500):
            self.page.evaluate(f"window.scrollTo(0, {y})")
            self.page.wait_for_timeout(200)
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.wait_for_function(f"() => !document.querySelector('{LOADING}')")

    def errors(self) -> list[str]:
        return self.page.locator(CHART_ERRORS).all_inner_texts()

    def unexpected_failures(self) -> dict[str, str]:
        """Failed requests, except the telemetry pixel our CSP blocks in the browser and the
        requests the browser itself cancels when the test navigates on (``ERR_ABORTED``: the
        welcome page's lists after login, a refresh in flight when a dashboard is left)."""
        return {
            url: why
            for url, why in self.failed.items()
            if not (not _is_local(url) and "csp" in why.lower()) and "ERR_ABORTED" not in why
        }

    def close(self) -> None:
        self.browser.close()


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def _scorecard(settings: Settings) -> dict[str, Any]:
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        rows = con.execute(
            "SELECT period_type, indicators_tracked, indicators_met, indicators_not_met, "
            "qd766_points FROM marts.kpi_scorecard WHERE admin_level = 'province' "
            "AND period = (SELECT max(period) FROM marts.kpi_scorecard s2 WHERE "
            "s2.admin_level = 'province' AND s2.period_type = kpi_scorecard.period_type)"
        ).fetchall()
    return {r[0]: {"tracked": r[1], "met": r[2], "not_met": r[3], "points": r[4]} for r in rows}


def _vn_number(text: str) -> float:
    """'1.234,5' (Vietnamese) → 1234.5."""
    return float(re.sub(r"[^\d,]", "", text).replace(",", "."))


def _big_number(page: Any, title: str) -> float:
    holder = page.locator("[data-test=chart-grid-component]", has_text=title)
    return _vn_number(holder.locator(".header-line").inner_text())


def test_every_dashboard_renders_for_each_role(
    wall_site: Settings, pw: Any, chromium_launch: dict[str, Any], artifacts_dir: Path
) -> None:
    base = superset.public_url(wall_site)
    for role in ("IOC Operator", "Province Leader", "Commune Leader"):
        user = _user(role)
        browser = Browser(pw, chromium_launch, base)
        try:
            browser.login(user["username"], wall_site.demo_users_password)
            for slug in sorted(_role_dashboards(role)):
                browser.open(slug)
                assert browser.errors() == [], (role, slug, browser.errors())
                if role == "IOC Operator":
                    browser.page.screenshot(
                        path=str(artifacts_dir / f"dashboard_{slug}.png"), full_page=True
                    )
                elif role == "Commune Leader":
                    browser.page.screenshot(
                        path=str(artifacts_dir / f"dashboard_{slug}_commune.png"), full_page=True
                    )
            assert browser.escaped == [], browser.escaped
            assert browser.unexpected_failures() == {}
        finally:
            browser.close()


def test_wall_scorecard_equals_the_warehouse(
    wall_site: Settings, pw: Any, chromium_launch: dict[str, Any]
) -> None:
    expected = _scorecard(wall_site)["year"]
    browser = Browser(pw, chromium_launch, superset.public_url(wall_site))
    try:
        browser.login(_user("IOC Operator")["username"], wall_site.demo_users_password)
        browser.open(WALL)
        page = browser.page
        assert _big_number(page, "Indicators met") == expected["met"]
        assert _big_number(page, "Indicators not met") == expected["not_met"]
        assert _big_number(page, "QĐ 766 points") == pytest.approx(expected["points"], abs=0.05)
        table = page.locator("[data-test=chart-grid-component]", has_text="Province KPI scorecard")
        year_row = table.locator("tr", has_text="Năm (year)").inner_text().split("\t")
        # Năm (year) | 2025 | tracked | met | not met | in progress | no data
        numbers = [int(c) for c in year_row if c.strip().isdigit()]
        assert numbers[1:4] == [expected["tracked"], expected["met"], expected["not_met"]]
    finally:
        browser.close()


def test_data_health_reconciles_with_the_national_portal(
    wall_site: Settings, pw: Any, chromium_launch: dict[str, Any], artifacts_dir: Path
) -> None:
    """The Data health dashboard's reconciliation panel shows the province's rows of
    marts.kpi_reconciliation with their explanations, and the count of unexplained gaps."""
    with duckdb.connect(str(wall_site.serving_db), read_only=True) as con:
        explained, unexplained = con.execute(
            "SELECT count(*) FILTER (WHERE explanation_code != 'agrees'),"
            " count(*) FILTER (WHERE explanation_code = 'unexplained')"
            " FROM marts.kpi_reconciliation"
        ).fetchone() or (0, 0)
    assert explained > 0, "the demo province should differ from the portal somewhere"
    browser = Browser(pw, chromium_launch, superset.public_url(wall_site))
    try:
        browser.login(_user("IOC Operator")["username"], wall_site.demo_users_password)
        browser.open("suc-khoe-du-lieu")
        panel = browser.page.locator(
            "[data-test=chart-grid-component]", has_text="Reconciliation with the national portal"
        )
        panel.scroll_into_view_if_needed()
        rows = panel.locator("tbody tr")
        rows.first.wait_for()
        texts = rows.all_inner_texts()
        assert any("Đồng bộ trễ" in t or "chưa đồng bộ" in t for t in texts), texts[:5]
        assert _big_number(browser.page, "Chưa giải thích (Unexplained)") == unexplained
        panel.screenshot(path=str(artifacts_dir / "data_health_reconciliation.png"))
    finally:
        browser.close()


def _alert_rank(critical: bool, rule_name: str, backlog_rules: set[str]) -> int:
    return 1 if critical else 3 if rule_name in backlog_rules else 2


def test_wall_lists_critical_alerts_first_and_dossier_backlogs_last(
    wall_site: Settings, pw: Any, chromium_launch: dict[str, Any]
) -> None:
    with duckdb.connect(str(wall_site.serving_db), read_only=True) as con:
        alerts = con.execute(
            "SELECT severity = 'critical', alert_rule, rule_name FROM meta.alerts WHERE is_open"
        ).fetchall()
    backlog_rules = {name for _, rule, name in alerts if rule == "dossier_overdue"}
    ranks = sorted(_alert_rank(critical, name, backlog_rules) for critical, _, name in alerts)
    # Event warnings and backlogs must both be open, or the order shown proves nothing (the
    # small province rarely has a critical alert open at its end).
    assert {2, 3} <= set(ranks), ranks
    browser = Browser(pw, chromium_launch, superset.public_url(wall_site))
    try:
        browser.login(_user("IOC Operator")["username"], wall_site.demo_users_password)
        browser.open(WALL)
        table = browser.page.locator("[data-test=chart-grid-component]", has_text="Open alerts")
        rows = table.locator("tr").filter(has_text=re.compile(r"\((warning|critical)\)"))
        rows.first.wait_for()
        shown = []
        for row in rows.all_inner_texts():
            severity, rule_name = row.split("\t")[:2]
            shown.append(_alert_rank("critical" in severity, rule_name.strip(), backlog_rules))
    finally:
        browser.close()
    assert shown == ranks[: len(shown)] and len(shown) >= min(10, len(ranks)), shown


def test_maps_draw_offline(wall_site: Settings, pw: Any, chromium_launch: dict[str, Any]) -> None:
    browser = Browser(pw, chromium_launch, superset.public_url(wall_site))
    try:
        browser.login(_user("IOC Operator")["username"], wall_site.demo_users_password)
        for slug in (WALL, "nong-nghiep-iot", "y-te-luot-kham"):
            browser.open(slug)
            maps = browser.page.locator("[data-test-viz-type^=deck_]")
            assert maps.count() >= 1, slug
            for i in range(maps.count()):
                chart = maps.nth(i)
                chart.scroll_into_view_if_needed()
                chart.locator("canvas").first.wait_for(state="visible")
                pixels: dict[str, int] = {"tile": 0, "drawn": 0, "total": 1}
                for _ in range(60):  # wait (≤ ~60 s) for the layers, not a timed assertion
                    shot = base64.b64encode(chart.screenshot()).decode()
                    pixels = browser.page.evaluate(PIXELS_JS, shot)
                    if pixels["drawn"] > 500 and pixels["tile"] > 0:
                        break
                    browser.page.wait_for_timeout(1000)
                assert pixels["drawn"] > 500, (slug, i, pixels)
        assert browser.tiles and set(browser.tiles) == {200}, browser.tiles
        assert browser.escaped == [], browser.escaped
        assert browser.unexpected_failures() == {}
    finally:
        browser.close()


def _commune_name(settings: Settings, code: str) -> str:
    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        (name,) = con.execute(
            "SELECT admin_unit_name FROM marts.dim_admin_unit WHERE admin_unit_code = ? "
            "AND admin_level = 'commune' AND is_current",
            [code],
        ).fetchone() or ("",)
    return str(name)


def test_commune_leader_sees_only_their_commune(
    wall_site: Settings, pw: Any, chromium_launch: dict[str, Any]
) -> None:
    user = _user("Commune Leader")
    (code,) = user["communes"]
    mine = _commune_name(wall_site, code)
    others = set()
    with duckdb.connect(str(wall_site.serving_db), read_only=True) as con:
        others = {
            str(r[0])
            for r in con.execute(
                "SELECT admin_unit_name FROM marts.dim_admin_unit WHERE admin_level = 'commune' "
                "AND is_current AND admin_unit_code <> ?",
                [code],
            ).fetchall()
        } - {mine}
    browser = Browser(pw, chromium_launch, superset.public_url(wall_site))
    try:
        browser.login(user["username"], wall_site.demo_users_password)
        for slug in sorted(_role_dashboards("Commune Leader")):
            browser.open(slug)
            cells = browser.page.locator("[data-test=chart-grid-component] td").all_inner_texts()
            shown = {c.strip() for c in cells} & others
            assert shown == set(), (slug, sorted(shown)[:5])
        # The wall and Data health are not theirs.
        browser.page.goto(f"{browser.base}/superset/dashboard/{WALL}/?standalone=1")
        browser.page.wait_for_timeout(3000)
        assert browser.page.locator("[data-test=chart-grid-component]").count() == 0
    finally:
        browser.close()


def test_wall_shows_a_new_publish_without_reload(
    wall_site: Settings, pw: Any, chromium_launch: dict[str, Any]
) -> None:
    """Kiosk mode keeps refreshing (Superset's standalone=2/3 do not; we use 1), and a publish
    swapped in underneath shows up on the wall by itself."""
    before = _scorecard(wall_site)["year"]["met"]
    browser = Browser(pw, chromium_launch, superset.public_url(wall_site))
    try:
        browser.login(_user("IOC Operator")["username"], wall_site.demo_users_password)
        browser.open(WALL)
        page = browser.page
        page.evaluate("window.__ioc_marker = 'same page'")  # gone if the page reloads
        assert _big_number(page, "Indicators met") == before
        # A new build whose province year scorecard counts one more indicator met, published
        # by the real atomic swap.
        with duckdb.connect(str(wall_site.build_db)) as con:
            con.execute(
                "UPDATE marts.kpi_scorecard SET indicators_met = indicators_met + 1 "
                "WHERE admin_level = 'province' AND period_type = 'year'"
            )
        publish(wall_site.build_db, wall_site.serving_db)
        after = _scorecard(wall_site)["year"]["met"]
        assert after == before + 1
        shown = before
        for _ in range(150):  # the wall refreshes every 30 s; wait up to ~2.5 min
            page.wait_for_timeout(1000)
            try:
                shown = int(_big_number(page, "Indicators met"))
            except Exception:
                continue
            if shown == after:
                break
        assert shown == after
        assert page.evaluate("window.__ioc_marker") == "same page"
    finally:
        browser.close()


def test_a_chart_changed_in_yaml_shows_after_import_and_exports_back(
    wall_site: Settings, pw: Any, chromium_launch: dict[str, Any], tmp_path: Path
) -> None:
    """The data engineer's loop: export gives back exactly the bundle in git; a chart edited in
    YAML and imported shows the change on the wall; exporting then writes the edit back."""
    exported = tmp_path / "exported"
    shutil.copytree(superset.BUNDLE_DIR, exported)
    superset.export_assets(wall_site, bundle_dir=exported)
    changed_files = [
        p.relative_to(exported).as_posix()
        for p in sorted(exported.rglob("*.yaml"))
        if p.read_bytes() != (superset.BUNDLE_DIR / p.relative_to(exported)).read_bytes()
    ]
    assert changed_files == [], f"import → export is not the bundle: {changed_files}"

    edited = tmp_path / "edited"
    shutil.copytree(superset.BUNDLE_DIR, edited)
    chart_file = edited / "charts" / "wall_alerts.yaml"
    old_title = "Cảnh báo đang mở (Open alerts)"
    new_title = "Cảnh báo cần xử lý (Alerts to act on)"
    text = chart_file.read_text(encoding="utf-8")
    assert old_title in text
    chart_file.write_text(text.replace(old_title, new_title), encoding="utf-8")
    layout = edited / "dashboards" / "tong_quan_ioc.yaml"
    layout.write_text(
        layout.read_text(encoding="utf-8").replace(old_title, new_title), encoding="utf-8"
    )
    try:
        superset.import_assets(wall_site, bundle_dir=edited)
        browser = Browser(pw, chromium_launch, superset.public_url(wall_site))
        try:
            browser.login(_user("IOC Operator")["username"], wall_site.demo_users_password)
            browser.open(WALL)
            titles = browser.page.locator("[data-test=chart-grid-component]").all_inner_texts()
            assert any(new_title in t for t in titles)
            assert not any(old_title in t for t in titles)
        finally:
            browser.close()
        round_trip = tmp_path / "round_trip"
        shutil.copytree(superset.BUNDLE_DIR, round_trip)
        superset.export_assets(wall_site, bundle_dir=round_trip)
        assert (round_trip / "charts" / "wall_alerts.yaml").read_text(
            encoding="utf-8"
        ) == chart_file.read_text(encoding="utf-8")
    finally:
        superset.import_assets(wall_site)
