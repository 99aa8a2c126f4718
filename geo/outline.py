"""The province outline: the new Đồng Tháp (from 1 July 2025) as one polygon — the map's outline
layer and the area the approximate commune zones fill (geo.zones).

No boundary of the new province can be fetched offline, but Apache Superset (Apache-2.0) ships a
map of Vietnam's 63 pre-2025 provinces with its country-map chart. ``ioc geo outline`` finds
that file in Superset's environment, dissolves old Đồng Tháp (VN-45) and old Tiền Giang (VN-46)
into one polygon and writes ``geo/data/province_outline.geojson``. That file is committed (NOTICE
records its origin); builds read only it, so they need neither Superset nor the network.

Superset's map is generalised for a country-wide view: about fifty vertices for the two
provinces, some 4,840 km² where the new province measures about 5,940 km² (most of the
difference is the southern districts of old Đồng Tháp, which the map leaves out). So the outline
is approximate and says so; once official commune boundaries are loaded (``ioc geo
load-boundaries``), the build dissolves those instead (geo.layers).
"""

from __future__ import annotations

import csv
import json
import logging
import os
from pathlib import Path

import geopandas as gpd
import shapely

from geo.features import METRIC_CRS, WGS84, LayerError, fill_holes, polygonal

log = logging.getLogger(__name__)

OUTLINE_FILE = Path(__file__).with_name("data") / "province_outline.geojson"
PROVINCE_SEED = (
    Path(__file__).resolve().parents[1]
    / "dbt_project"
    / "seeds"
    / "admin"
    / "admin_province_2025.csv"
)
# ISO 3166-2 codes of the two pre-2025 provinces merged into the new Đồng Tháp, as Superset's
# map labels its features.
MERGED_PROVINCES = {"VN-45": "Đồng Tháp", "VN-46": "Tiền Giang"}
PROVINCE_NAME_EN = "Dong Thap Province"
# A wall map needs nothing finer; keeps the committed file small whatever the source's detail.
SIMPLIFY_M = 100.0
APPROXIMATE_NOTE = (
    "Ranh giới gần đúng (approximate): Đồng Tháp và Tiền Giang cũ ghép từ bản đồ tỉnh của "
    "Apache Superset — the old Đồng Tháp and Tiền Giang dissolved from Apache Superset's "
    "province map"
)


class OutlineError(LayerError):
    """Superset's province map is missing or not what the outline is derived from."""


def find_superset_province_map(superset_venv: Path) -> Path:
    """The GeoJSON of Vietnam's provinces inside Superset's static assets (its file name is a
    content hash, so it is found by what it holds: features labelled VN-45 and VN-46)."""
    candidates = sorted(
        superset_venv.glob("lib/python3*/site-packages/superset/static/assets/*.geojson")
    )
    if not candidates:
        raise OutlineError(
            f"no Superset static assets under {superset_venv}: install Superset first "
            "(`make setup` builds .venv-superset)"
        )
    for path in candidates:
        raw = path.read_bytes()
        if not all(code.encode() in raw for code in MERGED_PROVINCES):
            continue
        isos = {feature["properties"].get("ISO") for feature in json.loads(raw)["features"]}
        if set(MERGED_PROVINCES) <= isos:
            return path
    raise OutlineError(
        f"none of Superset's {len(candidates)} country maps has features "
        f"{', '.join(MERGED_PROVINCES)}: has Superset's Vietnam map changed?"
    )


def _superset_version(superset_venv: Path) -> str:
    found = sorted(superset_venv.glob("lib/python3*/site-packages/apache_superset-*.dist-info"))
    return (
        found[0].name.removeprefix("apache_superset-").removesuffix(".dist-info") if found else "?"
    )


def _new_province() -> dict[str, str]:
    with PROVINCE_SEED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != 1:
        raise OutlineError(f"{PROVINCE_SEED} should hold the one current province: {rows}")
    return rows[0]


def derive_outline(source: Path, superset_version: str = "?") -> gpd.GeoDataFrame:
    """Dissolve the merged provinces of Superset's map into the new province's outline."""
    provinces = gpd.read_file(source)
    merged = provinces[provinces["ISO"].isin(list(MERGED_PROVINCES))]
    if len(merged) != len(MERGED_PROVINCES):
        raise OutlineError(f"{source}: expected one feature each for {list(MERGED_PROVINCES)}")
    metric = merged.to_crs(METRIC_CRS)
    outline = fill_holes(metric.union_all())
    outline = polygonal(shapely.simplify(outline, SIMPLIFY_M, preserve_topology=True))
    province = _new_province()
    names = " + ".join(f"{iso} {name}" for iso, name in MERGED_PROVINCES.items())
    frame = gpd.GeoDataFrame(
        {
            "province_code": [province["province_code"]],
            "province_name": [province["province_name"]],
            "province_name_en": [PROVINCE_NAME_EN],
            "valid_from": ["2025-07-01"],
            "outline_source": ["superset_country_map"],
            "derived_from": [
                f"apache-superset {superset_version}, superset/static/assets/{source.name} "
                f"(Apache-2.0): {names}, dissolved"
            ],
            "is_approximate": [True],
            "note": [APPROXIMATE_NOTE],
        },
        geometry=[outline],
        crs=METRIC_CRS,
    ).to_crs(WGS84)
    log.info(
        "outline: %s dissolved, %.0f km², %d vertices",
        names,
        outline.area / 1e6,
        shapely.get_num_coordinates(outline),
    )
    return frame


def write_outline(outline: gpd.GeoDataFrame, path: Path = OUTLINE_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # RFC 7946: WGS 84 without a crs member, right-hand winding; 6 decimals ≈ 0.1 m.
    outline.to_file(
        tmp,
        driver="GeoJSON",
        engine="pyogrio",
        layer="province_outline",
        RFC7946="YES",
        COORDINATE_PRECISION=6,
    )
    os.replace(tmp, path)
    return path


def build_outline(superset_venv: Path, path: Path = OUTLINE_FILE) -> Path:
    """``ioc geo outline``: find Superset's map, dissolve, write the committed outline file."""
    source = find_superset_province_map(superset_venv)
    log.info("outline: Superset's province map is %s", source)
    return write_outline(derive_outline(source, _superset_version(superset_venv)), path)


def load_outline(path: Path = OUTLINE_FILE) -> gpd.GeoDataFrame:
    """The committed outline (one row, WGS 84)."""
    outline = gpd.read_file(path, engine="pyogrio")
    if len(outline) != 1 or outline.crs is None:
        raise OutlineError(f"{path} should hold one feature in WGS 84: run `ioc geo outline`")
    return outline.to_crs(WGS84)
