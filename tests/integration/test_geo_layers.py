"""The GIS layers on the demo province's warehouse: a zone for every current commune, every
monitoring station where its source put it, an office for every handling unit, and the gate's
suites of the layers pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from expectations.gate import layer_suites, run_publish_gate
from geo.layers import build_layers
from iochub.settings import Settings

pytestmark = pytest.mark.integration


def test_layers_of_the_province(province_warehouse: Settings, tmp_path: Path) -> None:
    # On a copy: the session's warehouse is shared with tests that expect dbt's output alone.
    settings = Settings(home=tmp_path / "home", airflow_port=0, superset_port=0)
    settings.warehouse_dir.mkdir(parents=True)
    shutil.copy(province_warehouse.build_db, settings.build_db)

    counts = build_layers(settings)

    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        communes = con.execute(
            "select count(*) from marts.dim_admin_unit where is_current and admin_level = 'commune'"
        ).fetchone()
        assert communes == (102,)
        assert counts["geo.commune_zone"] == 102
        unzoned = con.execute(
            "select count(*) from marts.dim_admin_unit as d where d.is_current "
            "and d.admin_level = 'commune' and d.admin_unit_code not in "
            "(select commune_code from geo.commune_zone)"
        ).fetchone()
        assert unzoned == (0,)
        stations = con.execute(
            "select s.station_code, p.location_kind, p.latitude = s.latitude "
            "and p.longitude = s.longitude, p.commune_code is not null "
            "from marts.dim_station as s left join geo.map_point as p "
            "on p.point_id = 'station:' || s.station_code"
        ).fetchall()
        assert stations and all(row[1:] == ("surveyed", True, True) for row in stations), stations
        offices = con.execute(
            "select (select count(distinct handling_unit) from marts.fct_dossier), "
            "count(*) filter (where layer = 'office'), "
            "count(*) filter (where layer = 'facility'), "
            "(select count(*) from marts.dim_facility) from geo.map_point"
        ).fetchone()
        assert offices is not None and offices[0] == offices[1] > 0
        assert offices[2] == offices[3] > 0

    result = run_publish_gate(settings.build_db, "geo-province", layer_suites(settings.build_db))
    assert result.success, [(f.table, f.expectation, f.column, f.observed) for f in result.failures]
