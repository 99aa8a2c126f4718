"""Education, statistics, IoT and agriculture marts add up to what was landed from the demo
province. Their KPIs are compared with the ground truth with every other KPI in
``test_kpi_golden.py``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from connectors.registry import load_registry
from iochub.settings import Settings
from tests.conftest import simulated_sources

pytestmark = pytest.mark.integration


@pytest.fixture
def built(province_warehouse: Settings) -> Settings:
    """The whole province landed and built once per session (``tests/conftest.py``)."""
    return province_warehouse


def _lake(settings: Settings, source: str, table: str) -> str:
    return f"read_parquet('{settings.raw_dir / source / table}/*/*.parquet', union_by_name = true)"


def test_facts_add_up_to_the_landed_lake(built: Settings) -> None:
    settings = built
    hoc_sinh = _lake(settings, "education_exports", "hoc_sinh")
    truong = _lake(settings, "education_exports", "truong")
    chi_tieu = _lake(settings, "statistics_feed", "chi_tieu")
    water = _lake(settings, "iot_csv_backfill", "water_readings")
    traps = _lake(settings, "iot_csv_backfill", "light_trap_counts")
    stations = _lake(settings, "iot_csv_backfill", "stations")
    with duckdb.connect(str(settings.build_db), read_only=True) as con:

        def one(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            assert row is not None
            return row[0]

        # enrolment: the pupils of the facts (boys + girls) are the workbooks' totals
        lake_pupils = one(
            f"""select sum(total) from (
                select distinct _source_file, ma_truong, khoi_lop,
                    so_hoc_sinh__tong_so as total from {hoc_sinh})"""
        )
        assert lake_pupils and lake_pupils > 0
        assert one("select sum(pupils) from marts.fct_enrolment") == lake_pupils
        lake_grades = one(
            f"select count(distinct (_source_file, ma_truong, khoi_lop)) from {hoc_sinh}"
        )
        assert one("select count(*) from marts.fct_enrolment") == 2 * lake_grades
        assert one("select count(*) from marts.dim_school") == one(
            f"select count(distinct ma_truong) from {truong}"
        )
        assert one("select count(*) from marts.fct_school_digital_status") == one(
            f"select count(distinct (_source_file, ma_truong)) from {truong}"
        )
        # statistics: one fact row per published key
        assert one("select count(*) from marts.fct_digital_indicator") == one(
            f"""select count(distinct (ky_bao_cao, cap, ma_tinh, coalesce(ma_huyen, ''),
                coalesce(ma_xa, ''), ma_chi_tieu)) from {chi_tieu}"""
        )
        # IoT: every landed reading counted once in the hourly fact, every trap-night once (the
        # CSV dumps and the MQTT stream, de-duplicated by message id)
        water_ids = f"select message_id from {water}"
        trap_ids = f"select message_id from {traps}"
        if (settings.raw_dir / "iot_mqtt").exists():
            for table in ("water_readings", "light_trap_counts"):
                if not (settings.raw_dir / "iot_mqtt" / table).exists():
                    continue
                ids = f" union select message_id from {_lake(settings, 'iot_mqtt', table)}"
                if table == "water_readings":
                    water_ids += ids
                else:
                    trap_ids += ids
        assert one("select sum(readings) from marts.fct_iot_reading_hourly") == one(
            f"select count(distinct message_id) from ({water_ids})"
        )
        assert one("select count(*) from marts.fct_insect_trap_nightly") == one(
            f"select count(distinct message_id) from ({trap_ids})"
        )
        assert one("select count(*) from marts.dim_station") == one(
            f"select count(distinct station_code) from {stations}"
        )
        # agriculture: the registry's systems, and every landed system-month delivered
        agri = [n for n, s in load_registry(settings).items() if s.sector == "agriculture"]
        assert one("select count(*) from marts.dim_agri_system") == len(agri)
        # The envelope (report_date) and the delivery facts are the province's 28 systems'; a
        # system added to the registry (`simulated: false`) is counted above, not delivered.
        simulated = set(simulated_sources(settings))
        landed = [n for n in agri if n in simulated and (settings.raw_dir / n).exists()]
        months = set()
        for name in landed:
            for table in sorted(p.name for p in (settings.raw_dir / name).iterdir()):
                rows = con.execute(
                    f"""select distinct strftime(cast(report_date as date), '%Y-%m')
                    from {_lake(settings, name, table)}"""
                ).fetchall()
                months |= {(name.removeprefix("agri_").upper(), r[0]) for r in rows}
        delivered = set(
            con.execute(
                "select system_code, period from marts.fct_agri_system_delivery where is_delivered"
            ).fetchall()
        )
        assert delivered == months
        assert one("select count(*) from marts.fct_crop_area where system_code = 'TT01'") == one(
            f"select count(distinct record_id) from {_lake(settings, 'agri_tt01', 'crop_area')}"
        )
