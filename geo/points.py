"""Map points: health facilities, IoT stations, schools and the offices that handle
administrative procedures, each assigned by a spatial join to the commune zone it falls in.

Only the stations have surveyed coordinates. The sources place a facility or a school in a
commune and nowhere more precisely (``dim_facility``'s coordinates are its commune's centroid,
``dim_school`` has none), and a dossier names its handling office, not where that office is. Such
points are placed inside their commune's zone — deterministically, at an offset drawn from a hash
of their code, so they keep their place from build to build and do not stack on one spot — and
are flagged ``location_kind = 'approximate'``. Every point then gets its commune from the zone it
lies in (``geopandas.sjoin``); the source's commune stays beside it, so a surveyed station that
lies in another commune's zone than the one its source names shows up
(``commune_matches_source``).
"""

from __future__ import annotations

import hashlib
import logging

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.features import METRIC_CRS, WGS84, label_points

log = logging.getLogger(__name__)

POINT_COLUMNS = [
    "layer",
    "point_code",
    "point_name",
    "point_kind",
    "point_kind_name",
    "source_commune_code",
    "latitude",
    "longitude",
]
# What each layer reads from the marts; latitude and longitude only where the source surveyed
# the point itself.
POINT_QUERIES = {
    "facility": """
        select 'facility' as layer, facility_code as point_code, facility_name as point_name,
            facility_kind as point_kind, facility_kind_name as point_kind_name,
            commune_code as source_commune_code,
            -- its commune's centroid in dim_facility, not where the facility stands
            cast(null as double) as latitude, cast(null as double) as longitude
        from marts.dim_facility
    """,
    "station": """
        select 'station' as layer, station_code as point_code, station_name as point_name,
            station_kind as point_kind, station_kind as point_kind_name,
            commune_code as source_commune_code, latitude, longitude
        from marts.dim_station
    """,
    "school": """
        select 'school' as layer, school_code as point_code, school_name as point_name,
            level_code as point_kind, level_label as point_kind_name,
            commune_code as source_commune_code,
            cast(null as double) as latitude, cast(null as double) as longitude
        from marts.dim_school
    """,
}
STATION_KIND_NAMES = {
    "water": "Trạm quan trắc nước (water monitoring station)",
    "insect": "Bẫy đèn côn trùng (insect light trap)",
}
OFFICE_DOSSIERS = """
    select dossier.handling_unit, dossier.commune_code, procedure.authority_level,
        procedure.authority_level_name, procedure.field_name, count(*) as dossiers
    from marts.fct_dossier as dossier
    left join marts.dim_procedure as procedure
        on dossier.procedure_code = procedure.procedure_code
    where dossier.handling_unit is not null
    group by all
"""
OFFICE_KIND_NAMES = {
    "commune": "Bộ phận một cửa cấp xã (commune office)",
    "district": "Cơ quan cấp huyện (district office, before July 2025)",
    "province": "Sở, ngành cấp tỉnh (provincial department)",
}
# The provincial departments sit in the province's administrative centre: Resolution
# 202/2025/QH15 puts the new Đồng Tháp's in the former Tiền Giang, whose People's Committee is
# in the former Ward 1 of Mỹ Tho, now Phường Mỹ Tho.
PROVINCE_SEAT_COMMUNE = "28261"
POINT_NOTES = {
    "approximate": (
        "Vị trí gần đúng (approximate location): đặt trong vùng của xã, không phải tọa độ "
        "khảo sát — placed inside its commune's zone, not a surveyed position"
    ),
    "surveyed": "Tọa độ khảo sát (surveyed location)",
}
# Approximate points lie between these fractions of the radius of the largest circle inside
# their zone: away from its label at the centre, and well inside the zone's edge.
RING = (0.25, 0.8)


def read_point_sources(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every point of every layer (columns :data:`POINT_COLUMNS`) from the build warehouse."""
    frames = [con.sql(query).df() for query in POINT_QUERIES.values()]
    frames.append(_offices(con.sql(OFFICE_DOSSIERS).df()))
    points = pd.concat([f for f in frames if not f.empty] or frames[:1], ignore_index=True)
    stations = points["layer"] == "station"
    points.loc[stations, "point_kind_name"] = (
        points.loc[stations, "point_kind"].map(STATION_KIND_NAMES).fillna(points["point_kind"])
    )
    return points[POINT_COLUMNS]


def _offices(dossiers: pd.DataFrame) -> pd.DataFrame:
    """One point per handling office: a commune-level office (its procedures are the commune's,
    ``authority_level = 'xa'``) in the commune its dossiers come from; a provincial department
    at the province's seat; a district office of before July 2025 in the commune most of its
    dossiers came from (so does an office whose procedures are not in the catalogue)."""
    rows = []
    for unit, group in dossiers.groupby("handling_unit", sort=True):
        levels = group.groupby("authority_level_name")["dossiers"].sum().sort_index()
        level = str(levels.idxmax()) if len(levels) else "commune"
        communes = group.groupby("commune_code")["dossiers"].sum().sort_index()
        commune: str | None = PROVINCE_SEAT_COMMUNE
        if level != "province":
            commune = str(communes.idxmax()) if len(communes) else None
        fields = ", ".join(sorted(group["field_name"].dropna().unique()))
        rows.append(
            {
                "layer": "office",
                "point_code": unit,
                "point_name": f"{unit} ({'UBND cấp xã' if level == 'commune' else fields})",
                "point_kind": f"{level}_office",
                "point_kind_name": OFFICE_KIND_NAMES.get(level, level),
                "source_commune_code": commune,
                "latitude": np.nan,
                "longitude": np.nan,
            }
        )
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


def _unit_offsets(layers: pd.Series, codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Two numbers in [0, 1) per point, fixed by its layer and code."""
    digests = [
        hashlib.sha256(f"{layer}:{code}".encode()).digest()
        for layer, code in zip(layers, codes, strict=True)
    ]
    words = np.array([np.frombuffer(d[:8], dtype=">u4") for d in digests], dtype=float)
    words = words.reshape(-1, 2) / 2**32
    return words[:, 0], words[:, 1]


def place_points(points: pd.DataFrame, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``points`` as geometries (WGS 84): surveyed coordinates where the source has them, else a
    place inside the zone of the source's commune. A point with neither is left out (logged)."""
    surveyed = points["latitude"].notna() & points["longitude"].notna()
    metric_zones = zones.set_index("commune_code").geometry.to_crs(METRIC_CRS)
    centres, radii = label_points(metric_zones)
    placeable = points["source_commune_code"].isin(metric_zones.index)
    lost = points[~surveyed & ~placeable]
    if not lost.empty:
        log.warning(
            "points: %d point(s) have neither coordinates nor a current commune, left off the "
            "map: %s",
            len(lost),
            ", ".join(
                f"{r.layer} {r.point_code} ({r.source_commune_code})" for r in lost.itertuples()
            ),
        )
    kept = points[surveyed | placeable].reset_index(drop=True)
    approximate = (kept["latitude"].isna() | kept["longitude"].isna()).to_numpy()
    longitude = kept["longitude"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    latitude = kept["latitude"].to_numpy(dtype=float, na_value=np.nan, copy=True)
    if approximate.any():
        placed = kept[approximate]
        angle, spread = _unit_offsets(placed["layer"], placed["point_code"])
        zone = metric_zones.index.get_indexer(placed["source_commune_code"])
        distance = radii[zone] * (RING[0] + (RING[1] - RING[0]) * np.sqrt(spread))
        metric = gpd.GeoSeries(
            gpd.points_from_xy(
                centres.x.to_numpy()[zone] + distance * np.cos(2 * np.pi * angle),
                centres.y.to_numpy()[zone] + distance * np.sin(2 * np.pi * angle),
            ),
            crs=METRIC_CRS,
        ).to_crs(WGS84)
        longitude[approximate] = metric.x.to_numpy()
        latitude[approximate] = metric.y.to_numpy()
    placed_points = gpd.GeoDataFrame(
        kept, geometry=gpd.points_from_xy(longitude, latitude), crs=WGS84
    )
    placed_points["location_kind"] = np.where(approximate, "approximate", "surveyed")
    return placed_points


def assign_communes(points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each point's commune: the zone it lies within; for a point outside every zone (a
    surveyed point beyond the approximate outline), the nearest zone (``commune_join``)."""
    zone_codes = zones[["commune_code", "commune_name", "geometry"]]
    joined = gpd.sjoin(points, zone_codes, how="left", predicate="within")
    # Zones from a boundary file may overlap a little: the source's own commune wins, if any.
    joined["_other"] = joined["commune_code"] != joined["source_commune_code"]
    joined = (
        joined.sort_values(["_other", "commune_code"])
        .loc[lambda f: ~f.index.duplicated(keep="first")]
        .sort_index()
        .drop(columns=["_other", "index_right"])
    )
    joined["commune_join"] = np.where(joined["commune_code"].isna(), "nearest", "within")
    outside = joined["commune_code"].isna()
    if outside.any():
        nearest = gpd.sjoin_nearest(
            joined.loc[outside, ["geometry"]].to_crs(METRIC_CRS),
            zone_codes.to_crs(METRIC_CRS),
            how="left",
            distance_col="distance_m",
        )
        nearest = nearest.loc[~nearest.index.duplicated(keep="first")]
        joined.loc[outside, ["commune_code", "commune_name"]] = nearest[
            ["commune_code", "commune_name"]
        ]
        log.info(
            "points: %d point(s) outside every zone joined to the nearest (up to %.1f km): %s",
            int(outside.sum()),
            nearest["distance_m"].max() / 1000,
            ", ".join(joined.loc[outside, "layer"] + " " + joined.loc[outside, "point_code"]),
        )
    joined["commune_matches_source"] = joined["commune_code"] == joined["source_commune_code"]
    return joined


def map_points(sources: pd.DataFrame, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every point placed and assigned to its commune zone, with the plain columns of
    ``geo.map_point``."""
    points = assign_communes(place_points(sources, zones), zones)
    latitude, longitude = points.geometry.y.to_numpy(), points.geometry.x.to_numpy()
    result = gpd.GeoDataFrame(
        {
            "point_id": points["layer"] + ":" + points["point_code"],
            "layer": points["layer"],
            "point_code": points["point_code"],
            "point_name": points["point_name"],
            "point_kind": points["point_kind"],
            "point_kind_name": points["point_kind_name"],
            "commune_code": points["commune_code"],
            "commune_name": points["commune_name"],
            "source_commune_code": points["source_commune_code"],
            "commune_matches_source": points["commune_matches_source"].astype(bool),
            "commune_join": points["commune_join"],
            "location_kind": points["location_kind"],
            "is_approximate": points["location_kind"] == "approximate",
            "latitude": latitude,
            "longitude": longitude,
        },
        geometry=points.geometry.values,
        crs=WGS84,
    )
    counts = result.groupby(["layer", "location_kind"]).size()
    log.info(
        "points: %s; %d not in the commune their source names",
        ", ".join(f"{n} {layer} ({kind})" for (layer, kind), n in counts.items()),
        int((~result["commune_matches_source"]).sum()),
    )
    return result
