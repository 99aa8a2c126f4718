"""The publish gate's Data Docs open offline: every file the pages load is on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Route, sync_playwright

from iochub.settings import Settings

pytestmark = pytest.mark.e2e


def test_data_docs_render_with_no_network(
    ioc_home: Settings, serving_db: Path, chromium_launch: dict, artifacts_dir: Path
) -> None:
    index = ioc_home.data_docs_dir / "index.html"
    assert index.exists(), "the gate wrote no Data Docs"
    outside: list[str] = []
    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        def only_local(route: Route) -> None:
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(index.as_uri())
        page.wait_for_selector("table tbody tr", timeout=30_000)
        # Styled by the local Bootstrap: the navbar is laid out, not a bare list.
        assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") in (
            "flex",
            "block",
        )
        rows = page.locator("table tbody tr").count()
        text = page.inner_text("body")
        page.screenshot(path=str(artifacts_dir / "data_docs.png"), full_page=False)
        # One mart's validation result, a page deeper in the site.
        (result,) = index.parent.glob("*/validations/marts__fct_health_episode/*/*/*.html")
        page.goto(result.as_uri())
        page.wait_for_selector("text=Successful Expectations", timeout=30_000)
        detail = page.inner_text("body")
        browser.close()
    assert outside == [], f"pages asked outside servers: {outside}"
    assert failed == [], f"files missing next to the pages: {failed}"
    assert rows > 0 and "fct_health_episode" in text
    assert "episode_key" in detail
