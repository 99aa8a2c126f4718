"""The dashboards bundle (superset_assets/bundle/) is readable, complete and consistent.

What a reviewer of a dashboard change relies on: every file is in the normalised form that
``ioc superset export`` writes (so a diff shows only what changed), every reference between
files resolves, every chart's saved query (used by the chart data API, the cache warm-up and the
benchmarks) agrees with the chart's own parameters, and the wall and maps stay offline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from iochub import superset

BUNDLE = superset.BUNDLE_DIR
WALL_SLUG = "tong-quan-ioc"
SECTOR_SLUGS = {"y-te-luot-kham", "dich-vu-cong", "giao-duc", "nong-nghiep-iot"}
EXPECTED_SLUGS = {WALL_SLUG, *SECTOR_SLUGS, "suc-khoe-du-lieu"}
MAP_VIZ = {"deck_scatter", "deck_geojson", "deck_polygon", "deck_path", "deck_multi"}
# Drawn by Superset 6.1's frontend through the legacy /superset/explore_json/ endpoint from the
# chart's params: no saved query context (the cache warm-up takes the legacy path for them).
LEGACY_VIZ = {"deck_geojson"}
BILINGUAL = re.compile(r"\S.*\(.+\)\s*$")  # "Tiếng Việt (English)"


def _load(kind: str) -> dict[Path, dict[str, Any]]:
    return {
        path: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((BUNDLE / kind).rglob("*.yaml"))
    }


DATASETS = _load("datasets")
CHARTS = _load("charts")
DASHBOARDS = _load("dashboards")


def _dashboard_chart_uuids(doc: dict[str, Any]) -> set[str]:
    return {
        item["meta"]["uuid"]
        for item in doc["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }


def test_every_file_is_in_the_normalised_readable_form() -> None:
    for path in sorted(BUNDLE.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert "\\u" not in text, f"{path}: escaped characters; write Vietnamese as text"
        assert superset.dump_yaml(yaml.safe_load(text)) == text, (
            f"{path} is not in the form `ioc superset export` writes (sorted keys, UTF-8); "
            "rewrite it with iochub.superset.dump_yaml"
        )


def test_the_six_dashboards_with_bilingual_titles() -> None:
    assert {doc["slug"] for doc in DASHBOARDS.values()} == EXPECTED_SLUGS
    for doc in DASHBOARDS.values():
        assert BILINGUAL.match(doc["dashboard_title"]), doc["dashboard_title"]
        assert doc["metadata"]["refresh_frequency"] > 0, f"{doc['slug']} never refreshes"
    for doc in CHARTS.values():
        assert BILINGUAL.match(doc["slice_name"]), doc["slice_name"]


def test_references_resolve_and_every_chart_is_shown() -> None:
    dataset_uuids = {doc["uuid"] for doc in DATASETS.values()}
    chart_uuids = {doc["uuid"] for doc in CHARTS.values()}
    assert len(chart_uuids) == len(CHARTS), "two charts share a uuid"
    for path, doc in CHARTS.items():
        assert doc["dataset_uuid"] in dataset_uuids, f"{path}: unknown dataset"
    on_dashboards: set[str] = set()
    for path, doc in DASHBOARDS.items():
        used = _dashboard_chart_uuids(doc)
        assert used <= chart_uuids, f"{path}: charts not in the bundle: {used - chart_uuids}"
        on_dashboards |= used
    assert on_dashboards == chart_uuids, "charts on no dashboard"


def _dataset_of(chart: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in DATASETS.values() if d["uuid"] == chart["dataset_uuid"])


def _metric_names(params: dict[str, Any]) -> list[str]:
    names = list(params.get("metrics") or [])
    for key in ("metric", "size"):
        if isinstance(params.get(key), str):
            names.append(params[key])
    return [n for n in names if isinstance(n, str)]


@pytest.mark.parametrize("path", sorted(CHARTS), ids=lambda p: p.stem)
def test_chart_uses_only_what_its_dataset_declares(path: Path) -> None:
    chart = CHARTS[path]
    dataset = _dataset_of(chart)
    params = chart["params"]
    columns = {c["column_name"] for c in dataset["columns"]}
    metrics = {m["metric_name"] for m in dataset["metrics"]}
    assert set(_metric_names(params)) <= metrics, f"{path.stem}: metrics not in the dataset"
    named = [*params.get("groupby", []), *params.get("all_columns", [])]
    for key in ("x_axis", "geojson"):
        if isinstance(params.get(key), str):
            named.append(params[key])
    assert set(named) <= columns, f"{path.stem}: columns not in the dataset {set(named) - columns}"


@pytest.mark.parametrize("path", sorted(CHARTS), ids=lambda p: p.stem)
def test_saved_query_agrees_with_the_chart(path: Path) -> None:
    """The saved query context answers /api/v1/chart/<id>/data/; after editing a chart's
    ``params`` in YAML, open the chart in Superset, save it and run `ioc superset export`."""
    chart = CHARTS[path]
    context = chart["query_context"]
    if chart["viz_type"] in LEGACY_VIZ:
        assert context is None, f"{path.stem}: a legacy chart's saved query would go stale"
        return
    assert isinstance(context, dict), f"{path.stem}: no saved query context"
    assert context["form_data"] == chart["params"], (
        f"{path.stem}: params changed but the saved query did not; re-save the chart in "
        "Superset and run `ioc superset export`"
    )
    (query,) = context["queries"]
    assert set(_metric_names(chart["params"])) <= set(query.get("metrics") or []), path.stem
    grouped = chart["params"].get("groupby") or chart["params"].get("all_columns") or []
    query_columns = {c if isinstance(c, str) else c.get("label") for c in query["columns"]}
    assert set(grouped) <= query_columns, f"{path.stem}: {set(grouped) - query_columns}"


def test_maps_use_the_offline_base_map() -> None:
    maps = [doc for doc in CHARTS.values() if doc["viz_type"] in MAP_VIZ]
    assert len(maps) >= 3, "the wall, health and agriculture maps"
    for doc in maps:
        assert doc["params"]["mapbox_style"] == superset.PLACEHOLDER_BASE_MAP, doc["slice_name"]
        assert "approximate" in doc["slice_name"] or "approximate" in (doc["description"] or "")


def test_commune_leaders_dashboards_read_only_commune_keyed_datasets() -> None:
    """Row-level security filters on ``commune_code``: a sector dashboard chart on a dataset
    without it would show a commune leader the whole province (or nothing)."""
    for doc in DASHBOARDS.values():
        if doc["slug"] not in SECTOR_SLUGS:
            continue
        for chart in CHARTS.values():
            if chart["uuid"] in _dashboard_chart_uuids(doc):
                columns = {c["column_name"] for c in _dataset_of(chart)["columns"]}
                assert "commune_code" in columns, (doc["slug"], chart["slice_name"])


def test_the_wall_is_a_self_refreshing_16_9_layout() -> None:
    (wall,) = [doc for doc in DASHBOARDS.values() if doc["slug"] == WALL_SLUG]
    assert wall["metadata"]["refresh_frequency"] <= 60
    rows = [item for item in wall["position"].values() if isinstance(item, dict)]
    heights = {
        row["id"]: max(wall["position"][c]["meta"]["height"] for c in row["children"])
        for row in rows
        if row.get("type") == "ROW"
    }
    # Grid units are 8 px: the rows fit a 1080 px screen under the title bar.
    assert sum(heights.values()) * 8 <= 1080 - 120, heights
    for row in rows:
        if row.get("type") == "ROW":
            widths = sum(wall["position"][c]["meta"]["width"] for c in row["children"])
            assert widths == 12, (row["id"], widths)
    on_wall = _dashboard_chart_uuids(wall)
    names = {doc["slice_name"] for doc in CHARTS.values() if doc["uuid"] in on_wall}
    for needed in ("scorecard", "alerts", "Data sources", "approximate"):
        assert any(needed.lower() in n.lower() for n in names), needed
