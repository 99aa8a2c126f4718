"""Commune zones: one polygon per current commune, for the choropleth maps and the spatial join
that assigns map points to communes (geo.points).

The province has no official commune boundaries we may ship, only each commune's centroid and
area (vietnamadminunits, via ``marts.dim_admin_unit``). So each commune gets the Voronoi cell of
its centroid — the part of the province closer to it than to any other commune's centroid —
clipped to the province outline (geo.outline), which is first extended over the communes whose
centroid it leaves out (it is generalised). Every such zone is flagged approximate and says so
in Vietnamese and English on every map. When official boundaries have been loaded (``ioc geo
load-boundaries``, geo.boundaries) they are used instead, as they are.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.features import (
    METRIC_CRS,
    WGS84,
    LayerError,
    area_km2,
    fill_holes,
    label_points,
    polygonal,
    to_wgs84_xy,
)

log = logging.getLogger(__name__)

COMMUNE_COLUMNS = [
    "commune_code",
    "commune_name",
    "commune_type",
    "latitude",
    "longitude",
    "reported_area_km2",
]
ZONE_NOTES = {
    "voronoi": (
        "Ranh giới gần đúng (approximate): vùng gần tâm xã này hơn tâm các xã khác, không phải "
        "địa giới chính thức — the area nearer this commune's centre than any other's, not the "
        "official boundary"
    ),
    "official": "Địa giới chính thức (official boundary)",
}
# Closing radius that smooths where the extensions meet the outline, and the narrowest
# extension (see extend_outline).
EXTENSION_CLOSING_M = 2000.0
MIN_CAPSULE_M = 500.0


class ZoneError(LayerError):
    """The commune zones could not be built as the map needs them (one per current commune)."""


def _centroids(communes: pd.DataFrame) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        gpd.points_from_xy(communes["longitude"], communes["latitude"]),
        index=communes["commune_code"].to_numpy(),
        crs=WGS84,
    ).to_crs(METRIC_CRS)


def extend_outline(
    outline: BaseGeometry, communes: pd.DataFrame
) -> tuple[Polygon | MultiPolygon, list[str]]:
    """``outline`` (WGS 84) extended over the communes whose centroid lies outside it, and
    those communes' codes.

    Superset's generalised map leaves out the southern districts of old Đồng Tháp; clipped to
    it, their communes' cells would shrink to slivers along its edge. Each such commune adds a
    capsule from the outline's nearest point to its centroid, as wide as a disc of its reported
    area (but no wider than the centroid is far out, so a centroid just outside adds a nub, not
    a disc), so its zone gets about its size where it lies; a closing smooths the joins.
    """
    region = gpd.GeoSeries([outline], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    centroids = _centroids(communes)
    outside = ~centroids.within(region).to_numpy()
    if not outside.any():
        return polygonal(outline), []
    areas = communes["reported_area_km2"].where(communes["reported_area_km2"] > 0)
    # The package gives one commune no area; the typical commune's size stands in for it.
    radii = np.sqrt(areas.fillna(areas.median()).to_numpy()[outside] * 1e6 / np.pi)
    distances = centroids[outside].distance(region)
    capsules = shapely.union_all(
        [
            LineString([nearest_points(region, centroid)[0], centroid]).buffer(
                float(np.clip(distance, MIN_CAPSULE_M, radius))
            )
            for centroid, distance, radius in zip(centroids[outside], distances, radii, strict=True)
        ]
    )
    joined = shapely.union_all([region, capsules])
    # Smoothed only near the extensions: the rest of the outline stays as the map draws it.
    closed = joined.buffer(EXTENSION_CLOSING_M).buffer(-EXTENSION_CLOSING_M)
    near = capsules.buffer(2 * EXTENSION_CLOSING_M)
    extended = fill_holes(shapely.union_all([joined, closed.intersection(near)]))
    codes = list(centroids.index[outside])
    log.warning(
        "zones: %d commune centroid(s) lie outside the province outline (it is generalised); "
        "the outline was extended over them by %.0f km² (to %.0f km²): %s",
        len(codes),
        (extended.area - region.area) / 1e6,
        extended.area / 1e6,
        ", ".join(f"{code} ({d / 1000:.1f} km out)" for code, d in distances.items()),
    )
    return polygonal(gpd.GeoSeries([extended], crs=METRIC_CRS).to_crs(WGS84).iloc[0]), codes


def voronoi_zones(communes: pd.DataFrame, region: BaseGeometry) -> gpd.GeoDataFrame:
    """Voronoi cells of the communes' centroids clipped to ``region`` (WGS 84; the outline as
    :func:`extend_outline` made it, so that it holds every centroid), one per commune of
    ``communes`` (columns :data:`COMMUNE_COLUMNS`)."""
    communes = communes.sort_values("commune_code").reset_index(drop=True)
    centroids = _centroids(communes)
    metric_region = gpd.GeoSeries([region], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    outside = list(centroids.index[~centroids.within(metric_region).to_numpy()])
    if outside:
        raise ZoneError(f"commune centroids outside the zones' region: {outside}")
    cells = shapely.voronoi_polygons(
        MultiPoint(list(centroids.values)), extend_to=metric_region, ordered=True
    )
    if len(cells.geoms) != len(centroids):
        duplicates = sorted(centroids.index[centroids.duplicated(keep=False)])
        raise ZoneError(f"communes sharing one centroid cannot each get a zone: {duplicates}")
    zones = [polygonal(cell.intersection(metric_region)) for cell in cells.geoms]
    return _finish(communes, gpd.GeoSeries(zones, crs=METRIC_CRS), "voronoi")


def official_zones(communes: pd.DataFrame, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The loaded official boundaries (``commune_code``, geometry) as the zones of ``communes``;
    every commune must have one (geo.boundaries checked it when loading; the commune list may
    have changed since)."""
    communes = communes.sort_values("commune_code").reset_index(drop=True)
    by_code = boundaries.set_index("commune_code").geometry
    missing = sorted(set(communes["commune_code"]) - set(by_code.index))
    if missing:
        raise ZoneError(
            f"the loaded official boundaries have no polygon for {len(missing)} current "
            f"commune(s): {', '.join(missing)}; load a complete file with `ioc geo "
            "load-boundaries PATH`, or go back to approximate zones with `ioc geo "
            "clear-boundaries`"
        )
    geometries = by_code.loc[communes["commune_code"]].to_crs(METRIC_CRS).reset_index(drop=True)
    return _finish(communes, geometries, "official")


def _finish(communes: pd.DataFrame, metric: gpd.GeoSeries, source: str) -> gpd.GeoDataFrame:
    """Zones with their computed area, label point and whether the commune's own centroid lies
    in its zone."""
    labels, _ = label_points(metric)
    latitude, longitude = to_wgs84_xy(labels)
    centroids = _centroids(communes)
    zones = gpd.GeoDataFrame(
        {
            "commune_code": communes["commune_code"],
            "commune_name": communes["commune_name"],
            "commune_type": communes["commune_type"],
            "zone_source": source,
            "is_approximate": source != "official",
            "area_km2": area_km2(metric),
            "reported_area_km2": communes["reported_area_km2"],
            "latitude": latitude,
            "longitude": longitude,
            "centroid_in_zone": shapely.contains(metric.values, centroids.values),
        },
        geometry=metric.to_crs(WGS84).values,
        crs=WGS84,
    )
    log.info("zones: %d %s zones, %.0f km² in all", len(zones), source, zones["area_km2"].sum())
    return zones
