"""access.yaml + the bundle's datasets + the warehouse's communes → the access plan.

The pure part of ``iochub.superset_access``: which role reads which dataset, which dashboards
each role opens, the row-level rules and the demo users; and the mistakes it refuses. The real
access.yaml is checked against the real bundle too (a renamed dashboard slug fails here, fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from iochub import superset
from iochub.superset_access import (
    AccessError,
    load_access,
    plan_access,
    read_bundle,
)

AREA = "d0000000-0000-0000-0000-00000000000a"  # physical, with commune_code
VIRTUAL = "d0000000-0000-0000-0000-00000000000b"  # virtual (sql:), with commune_code
META = "d0000000-0000-0000-0000-00000000000c"  # no commune_code
COMMUNES = {"28261": "Phường Mỹ Tho", "29869": "Phường Cao Lãnh"}

ACCESS_YAML = """
area_column: commune_code
roles:
  - {name: IOC Operator, title: Vận hành IOC, scope: province, dashboards: all, sql_lab: true}
  - name: Commune Leader
    title: Lãnh đạo xã/phường
    scope: commune
    dashboards: [sector]
users:
  - {username: vanhanh, first_name: Vận hành, last_name: IOC, role: IOC Operator}
  - username: lanhdao_xa_28261
    first_name: Lãnh đạo
    last_name: Phường Mỹ Tho
    role: Commune Leader
    communes: ["28261"]
"""


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def _dataset(uuid: str, name: str, columns: list[str], sql: str | None = None) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "table_name": name,
        "sql": sql,
        "columns": [{"column_name": c} for c in columns],
    }


def _dashboard(slug: str, charts: list[str]) -> dict[str, Any]:
    position = {
        f"CHART-{uuid}": {"type": "CHART", "meta": {"uuid": uuid, "chartId": i}}
        for i, uuid in enumerate(charts)
    }
    return {
        "uuid": f"b0000000-0000-0000-0000-0000000000{len(slug):02d}",
        "slug": slug,
        "dashboard_title": slug.title(),
        "position": {"DASHBOARD_VERSION_KEY": "v2", **position},
    }


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    ds = bundle / "datasets" / "db"
    _write(ds / "area.yaml", _dataset(AREA, "agg_by_commune", ["commune_code", "n"]))
    _write(ds / "virtual.yaml", _dataset(VIRTUAL, "ioc_v", ["commune_code"], "select 1"))
    _write(ds / "meta.yaml", _dataset(META, "gate_result", ["success"]))
    for name, dataset in (("c-area", AREA), ("c-virtual", VIRTUAL), ("c-meta", META)):
        _write(
            bundle / "charts" / f"{name}.yaml",
            {"uuid": name, "slice_name": name, "dataset_uuid": dataset},
        )
    _write(bundle / "dashboards" / "sector.yaml", _dashboard("sector", ["c-area", "c-virtual"]))
    _write(bundle / "dashboards" / "wall.yaml", _dashboard("wall", ["c-area", "c-meta"]))
    return bundle


@pytest.fixture
def access_file(tmp_path: Path) -> Path:
    path = tmp_path / "access.yaml"
    path.write_text(ACCESS_YAML, encoding="utf-8")
    return path


def test_plan_grants_commune_roles_only_area_datasets_and_rows(
    access_file: Path, bundle_dir: Path
) -> None:
    plan = plan_access(load_access(access_file), read_bundle(bundle_dir), COMMUNES)
    roles = {role.name: role for role in plan.roles}
    assert set(roles["IOC Operator"].dataset_uuids) == {AREA, VIRTUAL, META}
    assert set(roles["Commune Leader"].dataset_uuids) == {AREA, VIRTUAL}
    assert roles["IOC Operator"].sql_lab and not roles["Commune Leader"].sql_lab
    # One area role per current commune, with no rights of its own.
    assert roles["Commune 28261"].dataset_uuids == () and not roles["Commune 28261"].gamma
    assert {name for name in roles if name.startswith("Commune 2")} == {
        "Commune 28261",
        "Commune 29869",
    }

    slugs = {d.uuid: d.slug for d in read_bundle(bundle_dir).dashboards}
    by_slug = {slugs[uuid]: roles for uuid, roles in plan.dashboard_roles.items()}
    assert by_slug == {
        "sector": ("IOC Operator", "Commune Leader"),
        "wall": ("IOC Operator",),
    }

    rules = {rule.name: rule for rule in plan.rules}
    closed = rules["iochub: no commune, no rows"]
    assert (closed.clause, closed.roles) == ("1 = 0", ("Commune Leader",))
    assert set(closed.dataset_uuids) == {AREA, VIRTUAL, META}
    mine = rules["iochub: Commune 28261"]
    assert (mine.clause, mine.roles) == ("commune_code = '28261'", ("Commune 28261",))
    assert set(mine.dataset_uuids) == {AREA, VIRTUAL}
    # Same group: a leader's communes are OR-ed with the closed rule, so they reopen it.
    assert {rule.group_key for rule in plan.rules} == {"commune_code"}
    assert len(plan.rules) == 1 + len(COMMUNES)

    users = {user.username: user for user in plan.users}
    assert users["vanhanh"].roles == ("IOC Operator",)
    assert users["lanhdao_xa_28261"].roles == ("Commune Leader", "Commune 28261")
    assert users["lanhdao_xa_28261"].email.endswith("@demo.iochub.invalid")
    assert plan.warnings == ()


def test_plan_warns_when_a_commune_dashboard_has_a_chart_without_the_area_column(
    access_file: Path, bundle_dir: Path
) -> None:
    text = access_file.read_text(encoding="utf-8").replace("[sector]", "[sector, wall]")
    access_file.write_text(text, encoding="utf-8")
    plan = plan_access(load_access(access_file), read_bundle(bundle_dir), COMMUNES)
    assert len(plan.warnings) == 1
    assert "'c-meta'" in plan.warnings[0] and "gate_result" in plan.warnings[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[sector]", "[sector, nowhere]"), "no dashboard with slug ['nowhere']"),
        (('communes: ["28261"]', 'communes: ["99999"]'), "not a current commune"),
        (("dashboards: all", "dashboards: [sector]"), "gives no role the dashboards ['Wall']"),
    ],
)
def test_plan_refuses_what_the_bundle_or_warehouse_do_not_hold(
    access_file: Path, bundle_dir: Path, change: tuple[str, str], message: str
) -> None:
    access_file.write_text(ACCESS_YAML.replace(*change), encoding="utf-8")
    with pytest.raises(AccessError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan_access(load_access(access_file), read_bundle(bundle_dir), COMMUNES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("scope: commune", "scope: district"), "scope must be one of"),
        (("role: IOC Operator}", "role: Mayor}"), "unknown role 'Mayor'"),
        (("role: IOC Operator}", 'role: IOC Operator, communes: ["28261"]}'), "communes"),
        (('    communes: ["28261"]\n', ""), "communes"),
        (('communes: ["28261"]', 'communes: ["28261\' or 1=1 --"]'), "digits"),
        (("name: Commune Leader", "name: Commune 12345"), "generated area role"),
    ],
)
def test_access_yaml_mistakes_are_refused(
    access_file: Path, change: tuple[str, str], message: str
) -> None:
    access_file.write_text(ACCESS_YAML.replace(*change), encoding="utf-8")
    with pytest.raises(AccessError, match=message):
        load_access(access_file)


def test_the_real_access_yaml_fits_the_real_bundle() -> None:
    access = load_access()
    communes = {code: f"Xã {code}" for user in access.users for code in user.communes}
    plan = plan_access(access, read_bundle(superset.BUNDLE_DIR), communes)
    names = {role.name for role in plan.roles}
    assert {"IOC Operator", "Province Leader", "Commune Leader"} <= names
    assert {user.role for user in access.users} == {role.name for role in access.roles}
    assert plan.warnings == (), "a commune leader's dashboard shows a chart with no rows"
