"""dbt's source definitions are generated from the registry and must be committed up to date."""

from __future__ import annotations

import yaml

from connectors.registry import Source
from iochub.dbt_sources import (
    generate_dbt_sources,
    render_mart_models,
    render_mart_sql,
)
from iochub.settings import get_settings


def test_generated_dbt_sources_are_up_to_date() -> None:
    stale = generate_dbt_sources(get_settings(), check=True)
    assert not stale, (
        f"dbt source files out of date with the registry: {[str(p) for p in stale]}; "
        "run `ioc dbt sources` and commit the result"
    )


def _published_source() -> Source:
    return Source.model_validate(
        {
            "name": "agri_dk01",
            "sector": "agriculture",
            "title": "Đăng ký trồng trọt (planting registrations)",
            "owner": "o",
            "kind": "sql",
            "connection": {"env": "IOC_AGRI_DK01_URL"},
            "schedule": "@daily",
            "freshness_hours": 24,
            "publish": True,
            "tables": [
                {
                    "name": "registrations",
                    "title": "Đăng ký (registrations)",
                    "table": "registrations",
                    "primary_key": ["ma_dang_ky"],
                    "columns": {
                        "ma_dang_ky": {"type": "integer", "required": True},
                        "ma_xa": {"admin_code": True, "description": "Mã xã"},
                        "dien_tich_ha": {"type": "decimal"},
                    },
                    "pii": {"so_cccd": "hmac", "dia_chi": "drop"},
                }
            ],
        }
    )


def test_a_published_source_gets_a_mart_per_table() -> None:
    source = _published_source()
    (table,) = source.tables
    sql = render_mart_sql(source, table, "connectors/sources/agriculture/agri_dk01.yaml")
    assert "{{ source_latest('agri_dk01', 'registrations') }}" in sql
    (model,) = yaml.safe_load(render_mart_models(source, "x.yaml"))["models"]
    assert model["name"] == "src_agri_dk01__registrations"
    assert model["data_tests"] == [
        {"column_checks": {"arguments": {"not_null": ["ma_dang_ky"]}}},
        {"unique_combination": {"arguments": {"columns": ["ma_dang_ky"]}}},
    ]
    columns = {c["name"]: c for c in model["columns"]}
    # The landed columns with the registry's descriptions: the pseudonym, not the dropped one.
    assert set(columns) == {
        "ma_dang_ky",
        "ma_xa",
        "dien_tich_ha",
        "so_cccd",
        "_run_id",
        "load_date",
    }
    assert "data_tests" not in columns["ma_dang_ky"]
    assert columns["ma_xa"]["description"] == "Mã xã"
    assert "hmac" in columns["so_cccd"]["description"]
