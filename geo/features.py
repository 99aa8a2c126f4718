"""What every GIS layer shares: the coordinate systems, polygon clean-up, label points and the
GeoJSON *Feature* per row that deck.gl draws.

Layers are stored in WGS 84 (EPSG:4326, what GeoJSON and deck.gl expect) and computed in UTM
zone 48N (EPSG:32648, metres): the province lies between 105.2° and 106.8° E, within a degree and
a half of the zone's central meridian, where UTM's areas are off by about 0.1 %.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32648"


class LayerError(RuntimeError):
    """The GIS layers cannot be built as the map needs them; the message says why."""


def polygonal(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    """The areal part of ``geometry``, valid: an intersection or a repaired polygon may come
    with stray lines and points where edges touch, which a polygon layer cannot hold."""
    repaired = shapely.make_valid(geometry)
    parts: list[Polygon] = []
    for part in getattr(repaired, "geoms", [repaired]):
        if isinstance(part, Polygon) and not part.is_empty:
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def fill_holes(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    """``geometry`` without its interior rings. A dissolve of source polygons that do not quite
    meet leaves slivers between them as holes; the new province has no enclave, so every hole
    is such a gap."""
    parts = [Polygon(part.exterior) for part in getattr(geometry, "geoms", [geometry])]
    return polygonal(shapely.union_all(parts))


def label_points(metric: gpd.GeoSeries) -> tuple[gpd.GeoSeries, np.ndarray]:
    """For each polygon (in metres): the centre of its largest inscribed circle — the point
    farthest inside it, where a label or a placed point is least likely to touch an edge — and
    that circle's radius in metres."""
    circles = shapely.maximum_inscribed_circle(metric.values, tolerance=1.0)
    centres = shapely.get_point(circles, 0)
    return gpd.GeoSeries(centres, index=metric.index, crs=metric.crs), shapely.length(circles)


def to_wgs84_xy(points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of metric points."""
    lonlat = points.to_crs(WGS84)
    return lonlat.y.to_numpy(), lonlat.x.to_numpy()


def area_km2(geometries: gpd.GeoSeries) -> np.ndarray:
    return np.round(geometries.to_crs(METRIC_CRS).area.to_numpy() / 1e6, 3)


def features(geometries: gpd.GeoSeries, properties: Iterable[Mapping[str, object]]) -> list[str]:
    """One GeoJSON Feature per geometry (WGS 84) with its properties: Superset's deck.gl
    GeoJSON chart draws a row only when it holds a whole Feature, not a bare geometry."""
    assert geometries.crs is not None and geometries.crs.to_epsg() == 4326
    # 6 decimals of a degree is about 0.1 m: more only makes the rows longer.
    rounded = shapely.transform(geometries.values, lambda xy: np.round(xy, 6))
    shapes = shapely.to_geojson(rounded)
    return [
        json.dumps(
            {"type": "Feature", "geometry": json.loads(shape), "properties": dict(props)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for shape, props in zip(shapes, properties, strict=True)
    ]
