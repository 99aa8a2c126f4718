"""Official commune boundaries, when the province supplies them: ``ioc geo load-boundaries PATH``.

The approximate Voronoi zones (geo.zones) stand in for boundaries the project cannot ship. A
province that has its own (from its Department of Agriculture and Environment, as GeoJSON,
Shapefile or GeoPackage, in any coordinate system GDAL knows) loads them once: each feature is
matched to a current commune by its code column, every current commune must have one, and the
result is kept as GeoParquet in ``IOC_HOME/geo/boundaries/communes.parquet``. From then on every
build uses them instead of the Voronoi zones (``zone_source = 'official'``), and the province
outline is their dissolve. ``ioc geo clear-boundaries`` goes back to the approximate zones.

A file that does not match is refused whole, with what to fix, and nothing is written: half a
province of official boundaries next to half of Voronoi cells would look official and not be.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyogrio.errors import DataSourceError

from geo.features import WGS84, area_km2, polygonal
from geo.outline import load_outline
from iochub.settings import Settings

log = logging.getLogger(__name__)

CURRENT_COMMUNES_SEED = (
    Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "admin" / "admin_unit_2025.csv"
)
# Column names a boundary file's commune code is commonly found under, tried in this order when
# --code-column is not given (compared without case).
CODE_COLUMNS = (
    "commune_code",
    "ma_xa",
    "maxa",
    "ma_dvhc",
    "madvhc",
    "ward_code",
    "wardcode",
    "code",
)


class BoundaryError(ValueError):
    """The boundary file cannot be used as it is; the message says what to fix."""


@dataclass(frozen=True)
class LoadedBoundaries:
    path: Path
    communes: int
    features_read: int
    area_km2: float


def current_commune_codes(seed: Path = CURRENT_COMMUNES_SEED) -> dict[str, str]:
    """Code → name of the current communes: the seed ``marts.dim_admin_unit`` is built from,
    read from the repository so loading never waits for, or locks, the build warehouse."""
    with seed.open(encoding="utf-8", newline="") as handle:
        return {row["commune_code"]: row["commune_name"] for row in csv.DictReader(handle)}


def _normal_code(value: object) -> str | None:
    """A commune code as the warehouse writes it: five digits, as text. GIS files often hold
    it as a number (28249, 28249.0) or lose its leading zero."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text.zfill(5) if text.isdigit() else text or None


def _code_column(frame: gpd.GeoDataFrame, requested: str | None) -> str:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if requested is not None:
        if requested not in columns:
            raise BoundaryError(
                f"no column {requested!r} in the file; its columns are: {', '.join(columns)}"
            )
        return requested
    by_lower = {c.lower(): c for c in columns}
    for candidate in CODE_COLUMNS:
        if candidate in by_lower:
            return by_lower[candidate]
    raise BoundaryError(
        "cannot tell which column holds the commune code (tried "
        f"{', '.join(CODE_COLUMNS)}); its columns are: {', '.join(columns)}. "
        "Name it with --code-column NAME"
    )


def match_boundaries(
    frame: gpd.GeoDataFrame,
    source: str,
    code_column: str | None = None,
    communes: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """The polygons of ``frame`` (read from ``source``) as one (multi)polygon per current
    commune, in WGS 84, with columns ``commune_code`` and geometry; :class:`BoundaryError` says
    what is wrong otherwise."""
    communes = current_commune_codes() if communes is None else communes
    if frame.empty:
        raise BoundaryError(f"{source} holds no features")
    if frame.crs is None:
        raise BoundaryError(
            f"{source} does not say its coordinate system (a Shapefile needs its .prj next to "
            "the .shp): add it, then load again"
        )
    column = _code_column(frame, code_column)
    frame = frame.to_crs(WGS84)
    frame["commune_code"] = frame[column].map(_normal_code)
    no_code = int(frame["commune_code"].isna().sum())
    unknown = sorted(set(frame["commune_code"].dropna()) - communes.keys())
    missing = sorted(communes.keys() - set(frame["commune_code"].dropna()))
    problems = []
    if no_code:
        problems.append(f"{no_code} feature(s) have no code in column {column!r}")
    if unknown:
        problems.append(
            f"{len(unknown)} code(s) are not current communes of the province: "
            f"{', '.join(unknown)} (codes from before 1 July 2025? a different column?)"
        )
    if missing:
        problems.append(
            f"{len(missing)} current commune(s) have no polygon: "
            + ", ".join(f"{code} {communes[code]}" for code in missing)
        )
    if problems:
        raise BoundaryError(
            f"{source} (code column {column!r}) does not match the {len(communes)} current "
            "communes:\n  - " + "\n  - ".join(problems) + "\nNothing was loaded. Fix the file "
            "(or name the right column with --code-column) and load it again; the build keeps "
            "using the zones it had."
        )
    # A commune drawn as several features (islands, a river between) is one zone.
    dissolved = frame[["commune_code", frame.geometry.name]].dissolve(by="commune_code")
    geometries = [polygonal(g) for g in dissolved.geometry]
    not_areal = [code for code, g in zip(dissolved.index, geometries, strict=True) if g.is_empty]
    if not_areal:
        raise BoundaryError(
            f"{source}: commune(s) with lines or points but no polygon: {', '.join(not_areal)}"
        )
    result = gpd.GeoDataFrame(
        {"commune_code": dissolved.index.to_numpy()}, geometry=geometries, crs=WGS84
    )
    outline = load_outline().geometry.iloc[0]
    if not shapely.intersects(shapely.union_all(result.geometry.values), outline):
        raise BoundaryError(
            f"{source}: the polygons do not fall on the province (bounds "
            f"{[round(v, 3) for v in result.total_bounds]}): is the file's coordinate system "
            "what it says?"
        )
    return result


def store_boundaries(boundaries: gpd.GeoDataFrame, settings: Settings) -> Path:
    target = settings.geo_boundaries_file
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    boundaries.to_parquet(tmp)
    os.replace(tmp, target)
    return target


def load_boundaries(
    path: Path, settings: Settings, code_column: str | None = None, layer: str | None = None
) -> LoadedBoundaries:
    """``ioc geo load-boundaries``: read, check and store the official commune boundaries."""
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (DataSourceError, OSError) as exc:
        raise BoundaryError(
            f"cannot read {path} as GeoJSON, Shapefile or GeoPackage: {exc}"
        ) from exc
    boundaries = match_boundaries(frame, str(path), code_column)
    stored = store_boundaries(boundaries, settings)
    loaded = LoadedBoundaries(
        path=stored,
        communes=len(boundaries),
        features_read=len(frame),
        area_km2=float(area_km2(boundaries.geometry).sum()),
    )
    log.info(
        "boundaries: %d feature(s) of %s → %d communes, %.0f km², stored in %s",
        loaded.features_read,
        path,
        loaded.communes,
        loaded.area_km2,
        stored,
    )
    return loaded


def stored_boundaries(settings: Settings) -> gpd.GeoDataFrame | None:
    """The loaded official boundaries, or None when none are loaded."""
    if not settings.geo_boundaries_file.exists():
        return None
    return gpd.read_parquet(settings.geo_boundaries_file)


def clear_boundaries(settings: Settings) -> bool:
    """``ioc geo clear-boundaries``: forget the official boundaries; True if there were any."""
    if not settings.geo_boundaries_file.exists():
        return False
    settings.geo_boundaries_file.unlink()
    return True
