"""The registry's published sources → Superset datasets, imported with the bundle.

A small registry written here (one published table with a titled column, a pseudonymised one, a
dropped one and a date cursor; one source that does not publish) and a serving warehouse holding
the one mart: the dataset documents, the ZIP the importer receives, and the access plan.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import duckdb
import pytest
import yaml

from connectors.registry import load_registry
from iochub import superset
from iochub.settings import Settings, get_settings
from iochub.superset_access import load_access, plan_access, read_bundle
from iochub.superset_sources import dataset_uuid, generated_uuids, source_datasets

SOURCE = """
name: {name}
sector: agriculture
title: "Hệ thống đăng ký trồng trọt (Planting registrations)"
owner: "Sở Nông nghiệp và Môi trường"
kind: sql
connection: {{env: IOC_{upper}_URL, default: "sqlite:///{home}/{name}.sqlite"}}
schedule: "@daily"
freshness_hours: 24
simulated: false
publish: {publish}
tables:
  - name: dang_ky
    title: "Đăng ký trồng trọt (Planting registration)"
    table: dang_ky
    primary_key: [ma_dang_ky]
    incremental: {{cursor: ngay_cap_nhat}}
    columns:
      ma_dang_ky: {{required: true, title: "Mã đăng ký (Registration id)"}}
      ngay_cap_nhat: {{type: timestamp, required: true, title: "Cập nhật (Updated at)"}}
      so_cccd: {{title: "Số CCCD (Citizen id)"}}
      dien_tich_ha: {{type: decimal, title: "Diện tích (Area, ha)", description: "Planted."}}
      ma_xa: {{admin_code: true}}
    pii:
      so_cccd: hmac
      dia_chi: drop
"""


@pytest.fixture
def registry(home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    folder = tmp_path / "sources" / "agriculture"
    folder.mkdir(parents=True)
    for name, publish in (("agri_dk01", "true"), ("agri_dk02", "false")):
        text = SOURCE.format(name=name, upper=name.upper(), home=tmp_path, publish=publish)
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("IOC_SOURCES_DIR", str(tmp_path / "sources"))
    return get_settings()


def _publish(settings: Settings, *tables: str) -> None:
    settings.serving_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.serving_db)) as con:
        con.execute("create schema marts")
        for table in tables:
            con.execute(f"create table marts.{table} (x integer)")


def test_a_published_mart_gets_a_dataset_titled_from_the_registry(registry: Settings) -> None:
    _publish(registry, "src_agri_dk01__dang_ky", "src_agri_dk02__dang_ky")
    datasets = source_datasets(registry)
    assert list(datasets) == ["datasets/iochub_serving/src_agri_dk01__dang_ky.yaml"]
    (doc,) = datasets.values()
    assert (doc["schema"], doc["table_name"], doc["sql"]) == (
        "marts",
        "src_agri_dk01__dang_ky",
        None,
    )
    assert (
        doc["database_uuid"]
        == yaml.safe_load(
            next((superset.BUNDLE_DIR / "databases").glob("*.yaml")).read_text(encoding="utf-8")
        )["uuid"]
    )
    columns = {c["column_name"]: c for c in doc["columns"]}
    # As landed: the dropped column is not there, the pseudonym is text, lineage columns last.
    assert list(columns) == [
        "ma_dang_ky",
        "ngay_cap_nhat",
        "so_cccd",
        "dien_tich_ha",
        "ma_xa",
        "_run_id",
        "load_date",
    ]
    assert columns["dien_tich_ha"]["verbose_name"] == "Diện tích (Area, ha)"
    assert columns["dien_tich_ha"]["description"] == "Planted."
    assert columns["dien_tich_ha"]["type"] == "DOUBLE"
    assert columns["so_cccd"]["type"] == "VARCHAR"
    assert "hmac" in columns["so_cccd"]["description"]
    assert columns["ma_xa"]["verbose_name"] is None  # no title declared: Superset shows the name
    assert columns["ngay_cap_nhat"]["is_dttm"] and doc["main_dttm_col"] == "ngay_cap_nhat"
    assert doc["uuid"] in generated_uuids(registry)


def test_a_mart_not_yet_published_gets_no_dataset(registry: Settings) -> None:
    assert source_datasets(registry) == {}  # no serving warehouse at all
    _publish(registry, "fct_something_else")
    assert source_datasets(registry) == {}


def test_the_dataset_uuid_is_the_same_on_every_machine(registry: Settings) -> None:
    source = load_registry(registry)["agri_dk01"]
    assert dataset_uuid(source, source.tables[0]) == "76cc1279-c41f-529e-8ecb-9e39e1810634"


def test_the_import_zip_carries_the_datasets_and_operators_read_them(registry: Settings) -> None:
    _publish(registry, "src_agri_dk01__dang_ky")
    with zipfile.ZipFile(io.BytesIO(superset.build_bundle_zip(registry))) as archive:
        names = archive.namelist()
        member = f"{superset.BUNDLE_ROOT}/datasets/iochub_serving/src_agri_dk01__dang_ky.yaml"
        assert member in names
        imported = yaml.safe_load(archive.read(member))
    assert imported["table_name"] == "src_agri_dk01__dang_ky"

    extra = source_datasets(registry).values()
    bundle = read_bundle(superset.BUNDLE_DIR, extra)
    access = load_access()
    communes = {code: f"Xã {code}" for user in access.users for code in user.communes}
    roles = {role.name: role for role in plan_access(access, bundle, communes).roles}
    (uuid,) = [doc["uuid"] for doc in extra]
    assert uuid in roles["IOC Operator"].dataset_uuids
    assert uuid in roles["Province Leader"].dataset_uuids
    # Its commune column is the source's own `ma_xa`, not the area column: no commune leader.
    assert uuid not in roles["Commune Leader"].dataset_uuids
