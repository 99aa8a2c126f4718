"""The GIS layers of the IOC, computed after dbt and before the publish gate.

``build_layers`` reads the current communes and the facility, station, school and dossier marts
from ``build.duckdb``, computes three layers and writes them back into the build warehouse, in
schema ``geo``, where the gate checks them and publish copies them to the serving warehouse:

- ``geo.province_outline`` — the new Đồng Tháp (geo.outline; extended over the communes its
  generalised source leaves out, or the dissolve of official boundaries once loaded);
- ``geo.commune_zone`` — one zone per current commune (geo.zones: approximate Voronoi cells, or
  official boundaries, geo.boundaries);
- ``geo.map_point`` — facilities, stations, schools and procedure-handling offices, each
  assigned to a commune by spatial join (geo.points).

Each table has plain columns (codes, names, kind, the latitude and longitude of a point inside
the shape, computed area, what is approximate and why), the geometry as WKB and a GeoJSON
Feature per row for Superset's deck.gl charts. The same layers are written as GeoParquet under
``warehouse/geo/`` for GIS tools. This runs in Python, not as a dbt model, because the Voronoi
cells and the spatial join need GeoPandas and the project's second adapter (dbt-postgres) has
no Python models.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import pyarrow as pa
import shapely

from geo.boundaries import stored_boundaries
from geo.features import (
    METRIC_CRS,
    WGS84,
    LayerError,
    area_km2,
    features,
    fill_holes,
    label_points,
)
from geo.outline import load_outline
from geo.points import POINT_NOTES, map_points, read_point_sources
from geo.zones import ZONE_NOTES, extend_outline, official_zones, voronoi_zones
from iochub.duckdb_connect import connect_duckdb
from iochub.settings import Settings

log = logging.getLogger(__name__)

SCHEMA = "geo"
CURRENT_COMMUNES = """
    select admin_unit_code as commune_code, admin_unit_name as commune_name,
        admin_unit_type as commune_type, latitude, longitude, area_km2 as reported_area_km2
    from marts.dim_admin_unit
    where is_current and admin_level = 'commune' and province_code = ?
    order by admin_unit_code
"""
_TEXT, _FLAG, _NUMBER = pa.string(), pa.bool_(), pa.float64()
_SHAPE = [("geometry_wkb", pa.binary()), ("feature", _TEXT)]
TABLES = {
    "province_outline": pa.schema(
        [
            ("province_code", _TEXT),
            ("province_name", _TEXT),
            ("province_name_en", _TEXT),
            ("outline_source", _TEXT),  # superset_country_map | official
            ("is_approximate", _FLAG),
            ("area_km2", _NUMBER),
            ("latitude", _NUMBER),  # a point well inside the outline, for a label
            ("longitude", _NUMBER),
            ("note", _TEXT),
            *_SHAPE,
        ]
    ),
    "commune_zone": pa.schema(
        [
            ("commune_code", _TEXT),
            ("commune_name", _TEXT),
            ("commune_type", _TEXT),
            ("zone_source", _TEXT),  # voronoi | official
            ("is_approximate", _FLAG),
            ("area_km2", _NUMBER),  # of the zone as drawn
            ("reported_area_km2", _NUMBER),  # the commune's area as the admin data reports it
            ("latitude", _NUMBER),
            ("longitude", _NUMBER),
            ("centroid_in_zone", _FLAG),
            *_SHAPE,
        ]
    ),
    "map_point": pa.schema(
        [
            ("point_id", _TEXT),  # layer:code
            ("layer", _TEXT),  # facility | station | school | office
            ("point_code", _TEXT),
            ("point_name", _TEXT),
            ("point_kind", _TEXT),
            ("point_kind_name", _TEXT),
            ("commune_code", _TEXT),  # from the zone the point lies in
            ("commune_name", _TEXT),
            ("source_commune_code", _TEXT),
            ("commune_matches_source", _FLAG),
            ("commune_join", _TEXT),  # within | nearest
            ("location_kind", _TEXT),  # surveyed | approximate
            ("is_approximate", _FLAG),
            ("latitude", _NUMBER),
            ("longitude", _NUMBER),
            *_SHAPE,
        ]
    ),
}
OFFICIAL_OUTLINE_NOTE = (
    "Địa giới chính thức (official boundary): hợp các xã theo địa giới chính thức — the official "
    "commune boundaries dissolved"
)
EXTENDED_NOTE = (
    " Mở rộng tới tâm {n} xã nằm ngoài bản đồ gốc (extended over {n} communes the source map "
    "leaves out)."
)


def read_current_communes(con: duckdb.DuckDBPyConnection, province_code: str) -> pd.DataFrame:
    communes = con.execute(CURRENT_COMMUNES, [province_code]).df()
    if communes.empty:
        raise LayerError(
            f"marts.dim_admin_unit has no current commune of province {province_code}: "
            "was the warehouse built (dbt build)?"
        )
    return communes


def province_outline(
    outline: gpd.GeoDataFrame, geometry: shapely.Geometry, source: str, extended: int
) -> gpd.GeoDataFrame:
    """The outline layer: one row, from the committed outline's properties and the geometry the
    zones were built in."""
    row = outline.iloc[0]
    official = source == "official"
    note = OFFICIAL_OUTLINE_NOTE if official else str(row["note"])
    if extended:
        note += EXTENDED_NOTE.format(n=extended)
    shape = gpd.GeoSeries([geometry], crs=WGS84)
    labels, _ = label_points(shape.to_crs(METRIC_CRS))
    label = labels.to_crs(WGS84).iloc[0]
    return gpd.GeoDataFrame(
        {
            "province_code": [row["province_code"]],
            "province_name": [row["province_name"]],
            "province_name_en": [row["province_name_en"]],
            "outline_source": [source],
            "is_approximate": [not official],
            "area_km2": area_km2(shape),
            "latitude": [label.y],
            "longitude": [label.x],
            "note": [note],
        },
        geometry=shape.values,
        crs=WGS84,
    )


def _outline_properties(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {
            "layer": "province_outline",
            "code": r.province_code,
            "name": r.province_name,
            "name_en": r.province_name_en,
            "source": r.outline_source,
            "is_approximate": bool(r.is_approximate),
            "area_km2": float(r.area_km2),
            "note": r.note,
        }
        for r in frame.itertuples()
    ]


def _zone_properties(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {
            "layer": "commune_zone",
            "code": r.commune_code,
            "name": r.commune_name,
            "kind": r.commune_type,
            "source": r.zone_source,
            "is_approximate": bool(r.is_approximate),
            "area_km2": float(r.area_km2),
            "note": ZONE_NOTES[r.zone_source],
        }
        for r in frame.itertuples()
    ]


def _point_properties(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {
            "layer": r.layer,
            "code": r.point_code,
            "name": r.point_name,
            "kind": r.point_kind,
            "kind_name": r.point_kind_name,
            "commune_code": r.commune_code,
            "commune_name": r.commune_name,
            "location_kind": r.location_kind,
            "is_approximate": bool(r.is_approximate),
            "note": POINT_NOTES[r.location_kind],
        }
        for r in frame.itertuples()
    ]


def _table(name: str, frame: gpd.GeoDataFrame, properties: list[dict[str, object]]) -> pa.Table:
    """The warehouse table of a layer: its plain columns, the geometry as WKB, the Feature; typed
    by :data:`TABLES`, so a build with no points yet publishes the same columns."""
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    plain["geometry_wkb"] = shapely.to_wkb(frame.geometry.values)
    plain["feature"] = features(frame.geometry, properties)
    schema = TABLES[name]
    assert set(plain.columns) == set(schema.names), (name, sorted(plain.columns))
    return pa.Table.from_pandas(plain[schema.names], schema=schema, preserve_index=False)


def _write_geoparquet(layers: dict[str, gpd.GeoDataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in layers.items():
        target = folder / f"{name}.parquet"
        tmp = folder / f".{name}.parquet.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, target)


def _write_tables(build_db: Path, tables: dict[str, pa.Table]) -> None:
    """Replace the ``geo`` tables in one transaction: readers of the build warehouse (the gate)
    see the old layers or the new ones, never a mix."""
    with connect_duckdb(str(build_db)) as con:
        con.execute("begin transaction")
        try:
            con.execute(f"create schema if not exists {SCHEMA}")
            for name, table in tables.items():
                con.register("layer_rows", table)
                con.execute(f"create or replace table {SCHEMA}.{name} as select * from layer_rows")
                con.unregister("layer_rows")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise


def build_layers(settings: Settings) -> dict[str, int]:
    """Compute the GIS layers from the build warehouse and write them into it (schema ``geo``)
    and as GeoParquet; returns the rows of each table, and of each point layer."""
    started = time.monotonic()
    if not settings.build_db.exists():
        raise LayerError(f"no build warehouse at {settings.build_db}: run `ioc build` first")
    outline = load_outline()
    province_code = str(outline.iloc[0]["province_code"])
    with connect_duckdb(str(settings.build_db), read_only=True) as con:
        communes = read_current_communes(con, province_code)
        sources = read_point_sources(con)
    log.info(
        "geo: %d current communes and %d points read from %s",
        len(communes),
        len(sources),
        settings.build_db,
    )
    boundaries = stored_boundaries(settings)
    if boundaries is not None:
        zones = official_zones(communes, boundaries)
        region = fill_holes(shapely.union_all(zones.geometry.values))
        outline_layer = province_outline(outline, region, "official", 0)
    else:
        region, extended = extend_outline(outline.geometry.iloc[0], communes)
        zones = voronoi_zones(communes, region)
        outline_layer = province_outline(
            outline, region, str(outline.iloc[0]["outline_source"]), len(extended)
        )
    points = map_points(sources, zones)
    layers = {"province_outline": outline_layer, "commune_zone": zones, "map_point": points}
    properties = {
        "province_outline": _outline_properties,
        "commune_zone": _zone_properties,
        "map_point": _point_properties,
    }
    tables = {name: _table(name, frame, properties[name](frame)) for name, frame in layers.items()}
    _write_geoparquet(layers, settings.geo_layers_dir)
    _write_tables(settings.build_db, tables)
    counts = {f"{SCHEMA}.{name}": table.num_rows for name, table in tables.items()}
    counts.update(
        {
            f"{SCHEMA}.map_point[{layer}]": int(n)
            for layer, n in sorted(points["layer"].value_counts().items())
        }
    )
    log.info(
        "geo: layers written to %s (schema %s) and %s in %.1f s: %s",
        settings.build_db,
        SCHEMA,
        settings.geo_layers_dir,
        time.monotonic() - started,
        counts,
    )
    return counts
