"""The GIS layers (geo/): the province outline, one zone per current commune, points placed and
joined to their zones, official boundaries loaded and refused, and the gate's checks of them.

The build warehouse here is a small DuckDB holding the marts geo.layers reads: the real 102
current communes (the admin seed), and a few facilities, stations, schools and dossiers.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from expectations.gate import GateResult, layer_suites, run_publish_gate
from geo.boundaries import BoundaryError, clear_boundaries, load_boundaries
from geo.layers import build_layers
from geo.outline import OUTLINE_FILE, derive_outline, find_superset_province_map, load_outline
from iochub.cli import app
from iochub.settings import REPO_ROOT, Settings

SEED = REPO_ROOT / "dbt_project" / "seeds" / "admin" / "admin_unit_2025.csv"
EQUAL_AREA = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global: areas true everywhere
# The new Đồng Tháp: old Đồng Tháp (about 3,380 km²) and old Tiền Giang (about 2,510 km²).
NEW_PROVINCE_KM2 = 3380 + 2510

with SEED.open(encoding="utf-8", newline="") as _handle:
    COMMUNES = {row["commune_code"]: row for row in csv.DictReader(_handle)}

# Phường Đạo Thạnh's centroid, inside Superset's outline; the station's source names the
# neighbouring ward (Phường Mỹ Tho), as a record keeps an old commune after a merger.
DAO_THANH = (10.381, 106.358)
STATIONS = [
    ("WQ-01", "water", "Trạm quan trắc nước Đạo Thạnh", "28261", *DAO_THANH),
    ("LT-03", "insect", "Bẫy đèn Xã Phú Ninh", "30028", 10.678937, 105.402735),
]
FACILITIES = [
    ("82001", "Bệnh viện Đa khoa Trung tâm Tiền Giang", "hospital", "Bệnh viện", "28249"),
    ("82002", "Trạm Y tế Phường Đạo Thạnh", "commune_station", "Trạm y tế", "28249"),
    ("87001", "Trạm Y tế Xã Phong Hòa", "commune_station", "Trạm y tế", "30235"),
]
SCHOOLS = [
    ("8210001", "Trường Mầm non 2", "MN", "Mầm non", "28261"),
    ("8720001", "Trường Tiểu học Lai Vung", "TH", "Tiểu học", "30226"),
]
PROCEDURES = [
    ("1.010001", "xa", "commune", "Hộ tịch"),
    ("2.000001", "tinh", "province", "Đất đai"),
]
DOSSIERS = [  # handling_unit, applicant's commune, procedure
    ("UBX-30169", "30169", "1.010001"),
    ("UBX-30169", "30169", "1.010001"),
    ("SO-DD", "30169", "2.000001"),
    ("SO-DD", "28249", "2.000001"),
]


def _make_build_warehouse(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.dim_admin_unit (
                admin_unit_code varchar, admin_unit_name varchar, admin_unit_type varchar,
                admin_level varchar, province_code varchar, latitude double, longitude double,
                area_km2 double, is_current boolean
            )
            """
        )
        con.executemany(
            "insert into marts.dim_admin_unit values (?, ?, ?, 'commune', '82', ?, ?, ?, true)",
            [
                (
                    c["commune_code"],
                    c["commune_name"],
                    c["commune_type"],
                    float(c["latitude"]),
                    float(c["longitude"]),
                    float(c["area_km2"]),
                )
                for c in COMMUNES.values()
            ],
        )
        # neither the province itself nor a commune of before July 2025 gets a zone
        con.execute(
            "insert into marts.dim_admin_unit values "
            "('82', 'Tỉnh Đồng Tháp', null, 'province', '82', 10.43, 106.0, null, true), "
            "('28252', 'Phường 4', 'Phường', 'commune', '82', 10.3575, 106.3596, null, false)"
        )
        con.execute(
            "create table marts.dim_station (station_code varchar, station_kind varchar, "
            "station_name varchar, commune_code varchar, latitude double, longitude double)"
        )
        con.executemany("insert into marts.dim_station values (?, ?, ?, ?, ?, ?)", STATIONS)
        con.execute(
            "create table marts.dim_facility (facility_code varchar, facility_name varchar, "
            "facility_kind varchar, facility_kind_name varchar, commune_code varchar, "
            "latitude double, longitude double)"
        )
        con.executemany(
            "insert into marts.dim_facility select ?, ?, ?, ?, ?, 10.0, 106.0", FACILITIES
        )
        con.execute(
            "create table marts.dim_school (school_code varchar, school_name varchar, "
            "level_code varchar, level_label varchar, commune_code varchar)"
        )
        con.executemany("insert into marts.dim_school values (?, ?, ?, ?, ?)", SCHOOLS)
        con.execute(
            "create table marts.dim_procedure (procedure_code varchar, authority_level varchar, "
            "authority_level_name varchar, field_name varchar)"
        )
        con.executemany("insert into marts.dim_procedure values (?, ?, ?, ?)", PROCEDURES)
        con.execute(
            "create table marts.fct_dossier (handling_unit varchar, commune_code varchar, "
            "procedure_code varchar)"
        )
        con.executemany("insert into marts.fct_dossier values (?, ?, ?)", DOSSIERS)


def _settings(home: Path) -> Settings:
    return Settings(home=home, airflow_port=0, superset_port=0)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The small warehouse with its layers built once (approximate zones)."""
    settings = _settings(tmp_path_factory.mktemp("geo") / "home")
    _make_build_warehouse(settings.build_db)
    build_layers(settings)
    return settings


@pytest.fixture
def scratch(built: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A copy of the built warehouse that a test may change."""
    settings = _settings(tmp_path / "home")
    settings.warehouse_dir.mkdir(parents=True)
    shutil.copy(built.build_db, settings.build_db)
    yield settings


def _layer(settings: Settings, table: str) -> gpd.GeoDataFrame:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        frame = con.execute(f"select * from geo.{table}").df()
    geometry = shapely.from_wkb(frame.pop("geometry_wkb").map(bytes).to_numpy())
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _gate(settings: Settings) -> GateResult:
    return run_publish_gate(settings.build_db, "geo-test", suites=layer_suites(settings.build_db))


def _km2(geometry: shapely.Geometry) -> float:
    return float(gpd.GeoSeries([geometry], crs="EPSG:4326").to_crs(EQUAL_AREA).area.iloc[0] / 1e6)


# --- outline ---------------------------------------------------------------------------------


def test_committed_outline_is_superset_map_dissolved() -> None:
    outline = load_outline()
    assert len(outline) == 1 and outline.crs.to_epsg() == 4326
    shape = outline.geometry.iloc[0]
    assert shape.is_valid and shape.geom_type in ("Polygon", "MultiPolygon")
    row = outline.iloc[0]
    assert (row["province_code"], row["province_name"]) == ("82", "Tỉnh Đồng Tháp")
    assert bool(row["is_approximate"]) and "approximate" in row["note"]
    # Superset's map is generalised: about 4,840 km², the southern districts of old Đồng Tháp
    # left out (geo.outline); the published outline makes up for it (next test).
    assert 4600 < _km2(shape) < 5100
    assert OUTLINE_FILE.stat().st_size < 200_000


def test_committed_outline_is_up_to_date_with_superset() -> None:
    venv = REPO_ROOT / ".venv-superset"
    if not venv.exists():
        pytest.skip("no .venv-superset (make setup builds it)")
    derived = derive_outline(find_superset_province_map(venv))
    committed = load_outline()
    assert shapely.equals_exact(
        derived.geometry.iloc[0].normalize(),
        committed.geometry.iloc[0].normalize(),
        tolerance=2e-6,
    ), "geo/data/province_outline.geojson is out of date: run `ioc geo outline`"


def test_published_outline_is_the_new_province(built: Settings) -> None:
    outline = _layer(built, "province_outline")
    assert len(outline) == 1
    shape = outline.geometry.iloc[0]
    assert shape.is_valid and shape.geom_type in ("Polygon", "MultiPolygon")
    area = _km2(shape)
    assert abs(area - NEW_PROVINCE_KM2) < 0.1 * NEW_PROVINCE_KM2, area
    assert outline["area_km2"].iloc[0] == pytest.approx(area, rel=0.005)
    assert outline["outline_source"].iloc[0] == "superset_country_map"
    assert bool(outline["is_approximate"].iloc[0])
    assert shape.contains(shapely.Point(outline["longitude"].iloc[0], outline["latitude"].iloc[0]))
    assert "extended over 14 communes" in outline["note"].iloc[0]


# --- zones -----------------------------------------------------------------------------------


def test_one_valid_approximate_zone_per_current_commune(built: Settings) -> None:
    zones = _layer(built, "commune_zone")
    outline = _layer(built, "province_outline").geometry.iloc[0]
    assert len(zones) == len(COMMUNES) == 102
    assert set(zones["commune_code"]) == set(COMMUNES)
    assert zones.geometry.is_valid.all()
    assert set(zones.geom_type) <= {"Polygon", "MultiPolygon"}
    union = shapely.union_all(zones.geometry.values)
    assert _km2(union) == pytest.approx(_km2(outline), rel=0.001)
    # zones do not overlap: their areas add up to their union's
    assert sum(_km2(z) for z in zones.geometry) == pytest.approx(_km2(union), rel=0.001)
    assert zones["is_approximate"].all() and (zones["zone_source"] == "voronoi").all()


def test_each_commune_centroid_lies_in_its_own_zone(built: Settings) -> None:
    zones = _layer(built, "commune_zone").set_index("commune_code")
    superset = load_outline().geometry.iloc[0]
    inside = 0
    for code, commune in COMMUNES.items():
        centroid = shapely.Point(float(commune["longitude"]), float(commune["latitude"]))
        if superset.contains(centroid):
            inside += 1
        # also those the outline was extended over
        assert zones.geometry[code].contains(centroid), code
    assert inside == 88  # 14 centroids lie outside Superset's generalised map
    assert zones["centroid_in_zone"].all()
    for zone in zones.itertuples():
        assert zone.geometry.contains(shapely.Point(zone.longitude, zone.latitude))


def test_every_row_is_a_geojson_feature_saying_approximate(built: Settings) -> None:
    for table in ("province_outline", "commune_zone", "map_point"):
        with duckdb.connect(str(built.build_db), read_only=True) as con:
            rows = con.execute(f"select feature from geo.{table}").fetchall()
        for (text,) in rows:
            feature = json.loads(text)
            assert feature["type"] == "Feature"
            assert shapely.from_geojson(json.dumps(feature["geometry"])).is_valid
            properties = feature["properties"]
            assert {"layer", "code", "name", "is_approximate", "note"} <= properties.keys()
            if properties["is_approximate"]:
                assert "gần đúng" in properties["note"] and "approximate" in properties["note"]
    with duckdb.connect(str(built.build_db), read_only=True) as con:
        (text,) = con.execute(
            "select feature from geo.commune_zone where commune_code = '28249'"
        ).fetchone() or ("",)
    properties = json.loads(text)["properties"]
    assert properties["name"] == "Phường Đạo Thạnh" and properties["source"] == "voronoi"
    assert properties["note"].startswith("Ranh giới gần đúng (approximate)")


def test_layers_are_written_as_geoparquet(built: Settings) -> None:
    for table, rows in (("province_outline", 1), ("commune_zone", 102), ("map_point", 9)):
        layer = gpd.read_parquet(built.geo_layers_dir / f"{table}.parquet")
        assert len(layer) == rows and layer.crs.to_epsg() == 4326


# --- points ----------------------------------------------------------------------------------


def test_station_gets_the_commune_of_the_zone_it_lies_in(built: Settings) -> None:
    points = _layer(built, "map_point").set_index("point_id")
    zones = _layer(built, "commune_zone").set_index("commune_code")
    station = points.loc["station:WQ-01"]
    assert (station["latitude"], station["longitude"]) == DAO_THANH
    assert station["location_kind"] == "surveyed" and not station["is_approximate"]
    assert station["commune_code"] == "28249" and station["commune_name"] == "Phường Đạo Thạnh"
    assert zones.geometry["28249"].contains(station.geometry)
    assert station["source_commune_code"] == "28261"
    assert not station["commune_matches_source"]
    assert station["commune_join"] == "within"


def test_points_without_coordinates_are_placed_inside_their_commune(built: Settings) -> None:
    points = _layer(built, "map_point").set_index("point_id")
    zones = _layer(built, "commune_zone").set_index("commune_code")
    assert sorted(points["layer"].value_counts().items()) == [
        ("facility", 3),
        ("office", 2),
        ("school", 2),
        ("station", 2),
    ]
    placed = points[points["layer"] != "station"]
    assert (placed["location_kind"] == "approximate").all() and placed["is_approximate"].all()
    for point_id, point in placed.iterrows():
        assert zones.geometry[point["source_commune_code"]].contains(point.geometry), point_id
        assert point["commune_matches_source"], point_id
    # two facilities of one commune do not stack on one spot, nor on the zone's label
    first, second = points.loc["facility:82001"], points.loc["facility:82002"]
    assert first.geometry.distance(second.geometry) > 1e-4
    label = shapely.Point(zones.loc["28249", "longitude"], zones.loc["28249", "latitude"])
    assert first.geometry.distance(label) > 1e-4
    # a commune office in its commune, a provincial department at the province's seat
    assert points.loc["office:UBX-30169", "commune_code"] == "30169"
    assert points.loc["office:UBX-30169", "point_kind"] == "commune_office"
    assert points.loc["office:SO-DD", "commune_code"] == "28261"
    assert points.loc["office:SO-DD", "point_name"] == "SO-DD (Đất đai)"


def test_rebuilt_layers_are_the_same(built: Settings, scratch: Settings) -> None:
    build_layers(scratch)
    for table in ("province_outline", "commune_zone", "map_point"):
        with (
            duckdb.connect(str(built.build_db), read_only=True) as before,
            duckdb.connect(str(scratch.build_db), read_only=True) as after,
        ):
            query = f"select * from geo.{table} order by all"
            assert before.execute(query).fetchall() == after.execute(query).fetchall(), table


def test_a_warehouse_without_points_still_gets_every_zone(scratch: Settings) -> None:
    with duckdb.connect(str(scratch.build_db)) as con:
        for table in ("dim_station", "dim_facility", "dim_school", "fct_dossier"):
            con.execute(f"delete from marts.{table}")
    counts = build_layers(scratch)
    assert counts["geo.commune_zone"] == 102 and counts["geo.map_point"] == 0
    with duckdb.connect(str(scratch.build_db), read_only=True) as con:
        types = con.execute(
            "select data_type from information_schema.columns "
            "where table_schema = 'geo' and table_name = 'map_point' and column_name = 'latitude'"
        ).fetchall()
    assert types == [("DOUBLE",)]


# --- official boundaries ---------------------------------------------------------------------


def _official_file(built: Settings, path: Path, crs: str, code_column: str) -> gpd.GeoDataFrame:
    """Official-looking boundaries made from the zones themselves, as a province would send
    them: another coordinate system, the code as a number under its own column name."""
    zones = _layer(built, "commune_zone")[["commune_code", "commune_name", "geometry"]]
    frame = zones.rename(columns={"commune_code": code_column}).to_crs(crs)
    frame[code_column] = frame[code_column].astype(int)
    frame.to_file(path, engine="pyogrio")
    return zones


@pytest.mark.parametrize(
    ("name", "crs", "column", "option"),
    [
        ("communes.geojson", "EPSG:4326", "MA_XA", None),
        ("communes.gpkg", "EPSG:32648", "ma_so", "ma_so"),
    ],
)
def test_official_boundaries_replace_the_approximate_zones(
    built: Settings, scratch: Settings, tmp_path: Path, name: str, crs: str, column: str, option
) -> None:
    source = tmp_path / name
    zones = _official_file(built, source, crs, column)
    loaded = load_boundaries(source, scratch, code_column=option)
    assert loaded.communes == 102 and scratch.geo_boundaries_file.exists()
    build_layers(scratch)
    official = _layer(scratch, "commune_zone").set_index("commune_code")
    assert (official["zone_source"] == "official").all()
    assert not official["is_approximate"].any()
    for code, zone in zones.set_index("commune_code").geometry.items():
        assert _km2(official.geometry[code]) == pytest.approx(_km2(zone), rel=0.001)
    outline = _layer(scratch, "province_outline").iloc[0]
    assert outline["outline_source"] == "official" and not outline["is_approximate"]
    features = [json.loads(f) for f in _layer(scratch, "commune_zone")["feature"]]
    assert {f["properties"]["note"] for f in features} == {
        "Địa giới chính thức (official boundary)"
    }
    assert _gate(scratch).success

    assert clear_boundaries(scratch)
    build_layers(scratch)
    assert (_layer(scratch, "commune_zone")["zone_source"] == "voronoi").all()


def test_a_boundary_file_that_does_not_match_is_refused_whole(
    built: Settings, scratch: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "bad.geojson"
    zones = _layer(built, "commune_zone")[["commune_code", "geometry"]]
    zones.loc[zones["commune_code"] == "28249", "commune_code"] = "99999"
    zones.to_file(source)
    with pytest.raises(BoundaryError) as refused:
        load_boundaries(source, scratch)
    message = str(refused.value)
    assert "not current communes of the province: 99999" in message
    assert "1 current commune(s) have no polygon: 28249 Phường Đạo Thạnh" in message
    assert "Nothing was loaded" in message
    assert not scratch.geo_boundaries_file.exists()

    zones.rename(columns={"commune_code": "id"}).to_file(source)
    with pytest.raises(BoundaryError, match="--code-column"):
        load_boundaries(source, scratch)
    assert not scratch.geo_boundaries_file.exists()


# --- publish gate and command line -----------------------------------------------------------


def test_gate_passes_the_layers_and_refuses_broken_ones(built: Settings, scratch: Settings) -> None:
    result = _gate(scratch)
    assert result.success and {o.table for o in result.outcomes} == {
        "geo.province_outline",
        "geo.commune_zone",
        "geo.map_point",
    }
    with duckdb.connect(str(scratch.build_db)) as con:
        con.execute("delete from geo.commune_zone where commune_code = '28249'")
        con.execute(
            "update geo.map_point set feature = json_object('type', 'Point') "
            "where point_id = 'station:WQ-01'"
        )
        con.execute("update geo.map_point set latitude = 21.0 where point_id = 'school:8210001'")
    failures = {(f.table, f.column) for f in _gate(scratch).failures}
    assert failures == {
        ("geo.commune_zone", "current_communes_without_zone"),
        ("geo.map_point", "is_feature"),
        ("geo.map_point", "latitude"),
    }


def test_geo_commands_have_help() -> None:
    runner = CliRunner()
    for command in ("outline", "layers", "load-boundaries", "clear-boundaries"):
        result = runner.invoke(app, ["geo", command, "--help"])
        assert result.exit_code == 0, result.output


def test_layers_command_without_a_warehouse_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["geo", "layers"])
    assert result.exit_code == 1
    assert "run `ioc build` first" in " ".join(result.output.split())
