"""Who sees what on the wall's Superset: roles, row-level security and demo users as code.

The last step of ``ioc superset import``. ``superset_assets/access.yaml`` names the roles, the
dashboards each may open and whether it sees the whole province or only its communes; the
bundle's dataset files say which datasets carry the area column (``commune_code``); the
published warehouse (``marts.dim_admin_unit``) lists the current communes. From the three,
:func:`plan_access` computes the whole access state, and :func:`apply_access` hands it to
``superset_assets/apply_access.py``, which runs inside Superset's own environment and makes the
metadata database match it (idempotent; works whether Superset is running or not).

Commune-scoped roles are closed by default: one rule gives them no rows in any dataset of the
bundle; one area role per commune (``Commune 28261``) reopens the rows of that commune in the
datasets with the area column. A user needs the role and an area role to see anything, and a
chart on a dataset without the area column (reachable through a dashboard) shows no rows.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from iochub.duckdb_connect import connect_duckdb
from iochub.settings import Settings
from iochub.superset import ASSETS_DIR, BUNDLE_DIR, SupersetError, _run, _venv_bin
from iochub.superset_sources import source_datasets

ACCESS_FILE = ASSETS_DIR / "access.yaml"
APPLY_SCRIPT = ACCESS_FILE.parent / "apply_access.py"

SCOPES = ("province", "commune")
AREA_ROLE_PREFIX = "Commune "
AREA_ROLE_PATTERN = r"^Commune \d+$"  # generated area roles; others with this name are removed
RULE_PREFIX = "iochub: "  # every row-level rule this module owns starts with it
DEMO_EMAIL_DOMAIN = "demo.iochub.invalid"  # marks the users access.yaml owns
CODE_RE = re.compile(r"^\d+$")
log = logging.getLogger(__name__)


class AccessError(SupersetError):
    """access.yaml, the bundle and the warehouse disagree; the message says where."""


# --- access.yaml ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoleSpec:
    name: str
    scope: str  # "province": every dataset, all rows; "commune": only the user's communes
    dashboards: tuple[str, ...] | None  # slugs; None = every dashboard of the bundle
    sql_lab: bool


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    communes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessConfig:
    area_column: str
    roles: tuple[RoleSpec, ...]
    users: tuple[UserSpec, ...]


def _require(doc: dict[str, Any], key: str, where: str) -> Any:
    if key not in doc:
        raise AccessError(f"{where}: `{key}` is missing")
    return doc[key]


def load_access(path: Path = ACCESS_FILE) -> AccessConfig:
    """Read and check ``access.yaml`` (names, scopes, user roles and commune codes)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    roles: list[RoleSpec] = []
    for i, item in enumerate(_require(doc, "roles", path.name)):
        where = f"{path.name} roles[{i}]"
        scope = _require(item, "scope", where)
        if scope not in SCOPES:
            raise AccessError(f"{where}: scope must be one of {SCOPES}, not {scope!r}")
        dashboards = _require(item, "dashboards", where)
        if dashboards != "all" and not (
            isinstance(dashboards, list) and all(isinstance(s, str) for s in dashboards)
        ):
            raise AccessError(f"{where}: dashboards must be `all` or a list of slugs")
        name = str(_require(item, "name", where))
        if re.match(AREA_ROLE_PATTERN, name):
            raise AccessError(f"{where}: {name!r} is the name of a generated area role")
        roles.append(
            RoleSpec(
                name=name,
                scope=scope,
                dashboards=None if dashboards == "all" else tuple(dashboards),
                sql_lab=bool(item.get("sql_lab", False)),
            )
        )
    by_name = {role.name: role for role in roles}
    if len(by_name) != len(roles):
        raise AccessError(f"{path.name}: a role is declared twice")

    users: list[UserSpec] = []
    for i, item in enumerate(doc.get("users") or []):
        where = f"{path.name} users[{i}]"
        role_name = _require(item, "role", where)
        if role_name not in by_name:
            raise AccessError(f"{where}: unknown role {role_name!r} (roles: {sorted(by_name)})")
        communes = tuple(str(code) for code in item.get("communes") or [])
        if (by_name[role_name].scope == "commune") != bool(communes):
            raise AccessError(
                f"{where}: `communes` is required for a commune role and only allowed for one"
            )
        if bad := [code for code in communes if not CODE_RE.match(code)]:
            raise AccessError(f"{where}: commune codes are digits, not {bad}")
        users.append(
            UserSpec(
                username=str(_require(item, "username", where)),
                first_name=str(_require(item, "first_name", where)),
                last_name=str(_require(item, "last_name", where)),
                role=role_name,
                communes=communes,
            )
        )
    if len({user.username for user in users}) != len(users):
        raise AccessError(f"{path.name}: a username is declared twice")
    area_column = str(_require(doc, "area_column", path.name))
    return AccessConfig(area_column=area_column, roles=tuple(roles), users=tuple(users))


# --- what the bundle and the warehouse hold ---------------------------------------------------
@dataclass(frozen=True)
class Dataset:
    uuid: str
    name: str  # table_name: the physical table, or the name of a virtual dataset
    columns: frozenset[str]


@dataclass(frozen=True)
class Chart:
    uuid: str
    name: str
    dataset_uuid: str


@dataclass(frozen=True)
class Dashboard:
    uuid: str
    slug: str | None
    title: str
    chart_uuids: tuple[str, ...]


@dataclass(frozen=True)
class Bundle:
    datasets: tuple[Dataset, ...]
    charts: tuple[Chart, ...]
    dashboards: tuple[Dashboard, ...]


def _yaml_docs(folder: Path) -> list[dict[str, Any]]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(folder.rglob("*.yaml"))
        if path.is_file()
    ]


def read_bundle(bundle_dir: Path, extra_datasets: Iterable[dict[str, Any]] = ()) -> Bundle:
    """The datasets (with their columns), charts and dashboards of an assets bundle, and the
    datasets imported with it from elsewhere (the source marts' datasets)."""
    datasets = tuple(
        Dataset(
            uuid=str(doc["uuid"]),
            name=str(doc["table_name"]),
            columns=frozenset(str(c["column_name"]) for c in doc.get("columns") or []),
        )
        for doc in [*_yaml_docs(bundle_dir / "datasets"), *extra_datasets]
    )
    charts = tuple(
        Chart(
            uuid=str(doc["uuid"]),
            name=str(doc["slice_name"]),
            dataset_uuid=str(doc["dataset_uuid"]),
        )
        for doc in _yaml_docs(bundle_dir / "charts")
    )
    dashboards = tuple(
        Dashboard(
            uuid=str(doc["uuid"]),
            slug=doc.get("slug"),
            title=str(doc["dashboard_title"]),
            chart_uuids=tuple(
                sorted(
                    str(item["meta"]["uuid"])
                    for item in (doc.get("position") or {}).values()
                    if isinstance(item, dict) and item.get("type") == "CHART"
                )
            ),
        )
        for doc in _yaml_docs(bundle_dir / "dashboards")
    )
    return Bundle(datasets=datasets, charts=charts, dashboards=dashboards)


def current_communes(serving_db: Path) -> dict[str, str]:
    """Code → name of the communes of the current structure, from the published warehouse."""
    with connect_duckdb(str(serving_db), read_only=True) as con:
        rows = con.execute(
            "select admin_unit_code, admin_unit_name from marts.dim_admin_unit "
            "where is_current and admin_level = 'commune' order by admin_unit_code"
        ).fetchall()
    return {str(code): str(name) for code, name in rows}


# --- the plan ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedRole:
    name: str
    dataset_uuids: tuple[str, ...]  # datasource_access on each
    sql_lab: bool  # the built-in sql_lab role's permissions on top of Gamma's
    gamma: bool  # Gamma's permissions (viewing dashboards and charts); area roles have none


@dataclass(frozen=True)
class PlannedRule:
    name: str
    description: str
    clause: str
    group_key: str  # rules sharing a key are OR-ed; Superset ANDs the groups
    roles: tuple[str, ...]
    dataset_uuids: tuple[str, ...]


@dataclass(frozen=True)
class PlannedUser:
    username: str
    first_name: str
    last_name: str
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AccessPlan:
    """The whole access state ``apply_access.py`` makes Superset's metadata database match."""

    roles: tuple[PlannedRole, ...]
    dashboard_roles: dict[str, tuple[str, ...]]  # dashboard uuid → role names
    rules: tuple[PlannedRule, ...]
    users: tuple[PlannedUser, ...]
    area_role_pattern: str = AREA_ROLE_PATTERN
    rule_prefix: str = RULE_PREFIX
    user_email_domain: str = DEMO_EMAIL_DOMAIN
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def area_role(code: str) -> str:
    return f"{AREA_ROLE_PREFIX}{code}"


def _quote(code: str) -> str:
    if not CODE_RE.match(code):  # the clause is SQL: only digits ever reach it
        raise AccessError(f"commune code {code!r} is not digits")
    return f"'{code}'"


def plan_access(config: AccessConfig, bundle: Bundle, communes: dict[str, str]) -> AccessPlan:
    """Roles, dashboard roles, row-level rules and users from access.yaml, bundle and warehouse.

    Raises :class:`AccessError` for a dashboard slug not in the bundle, a dashboard no role may
    open, or a user's commune not in the warehouse's current structure.
    """
    area_datasets = tuple(d.uuid for d in bundle.datasets if config.area_column in d.columns)
    all_datasets = tuple(d.uuid for d in bundle.datasets)
    by_slug = {d.slug: d for d in bundle.dashboards if d.slug}
    dataset_of = {c.uuid: c.dataset_uuid for c in bundle.charts}
    names = {d.uuid: d.name for d in bundle.datasets}
    chart_names = {c.uuid: c.name for c in bundle.charts}

    roles: list[PlannedRole] = []
    dashboard_roles: dict[str, list[str]] = {d.uuid: [] for d in bundle.dashboards}
    warnings: list[str] = []
    for role in config.roles:
        if role.dashboards is None:
            granted = list(bundle.dashboards)
        else:
            unknown = [slug for slug in role.dashboards if slug not in by_slug]
            if unknown:
                raise AccessError(
                    f"access.yaml role {role.name!r}: no dashboard with slug {unknown} in the "
                    f"bundle (slugs: {sorted(by_slug)})"
                )
            granted = [by_slug[slug] for slug in role.dashboards]
        for dashboard in granted:
            dashboard_roles[dashboard.uuid].append(role.name)
            if role.scope == "commune":
                for chart in dashboard.chart_uuids:
                    dataset = dataset_of.get(chart)
                    if dataset is not None and dataset not in area_datasets:
                        warnings.append(
                            f"{role.name}: chart {chart_names[chart]!r} on {dashboard.title!r} "
                            f"shows no rows (dataset {names.get(dataset, dataset)} has no "
                            f"{config.area_column} column)"
                        )
        roles.append(
            PlannedRole(
                name=role.name,
                dataset_uuids=area_datasets if role.scope == "commune" else all_datasets,
                sql_lab=role.sql_lab,
                gamma=True,
            )
        )
    if orphans := [d.title for d in bundle.dashboards if not dashboard_roles[d.uuid]]:
        raise AccessError(f"access.yaml gives no role the dashboards {orphans}")

    commune_roles = tuple(role.name for role in config.roles if role.scope == "commune")
    rules: list[PlannedRule] = []
    if commune_roles:
        rules.append(
            PlannedRule(
                name=f"{RULE_PREFIX}no commune, no rows",
                description=(
                    "Không thuộc xã/phường nào thì không thấy dòng nào (a commune role without "
                    "an area role sees no rows; datasets without the area column show none)"
                ),
                clause="1 = 0",
                group_key=config.area_column,
                roles=commune_roles,
                dataset_uuids=all_datasets,
            )
        )
        for code, name in communes.items():
            roles.append(PlannedRole(area_role(code), dataset_uuids=(), sql_lab=False, gamma=False))
            rules.append(
                PlannedRule(
                    name=f"{RULE_PREFIX}{area_role(code)}",
                    description=f"{name} ({code}): chỉ dòng của xã/phường này (its rows only)",
                    clause=f"{config.area_column} = {_quote(code)}",
                    group_key=config.area_column,
                    roles=(area_role(code),),
                    dataset_uuids=area_datasets,
                )
            )

    users: list[PlannedUser] = []
    for user in config.users:
        if unknown := [code for code in user.communes if code not in communes]:
            raise AccessError(
                f"access.yaml user {user.username!r}: commune {unknown} is not a current commune "
                "of the published warehouse (marts.dim_admin_unit)"
            )
        users.append(
            PlannedUser(
                username=user.username,
                first_name=user.first_name,
                last_name=user.last_name,
                email=f"{user.username}@{DEMO_EMAIL_DOMAIN}",
                roles=(user.role, *(area_role(code) for code in user.communes)),
            )
        )
    return AccessPlan(
        roles=tuple(roles),
        dashboard_roles={uuid: tuple(names) for uuid, names in dashboard_roles.items()},
        rules=tuple(rules),
        users=tuple(users),
        warnings=tuple(warnings),
    )


# --- applying it ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessResult:
    """What Superset holds after an apply, and what the apply removed."""

    roles: int
    rules: int
    users: tuple[str, ...]
    removed: dict[str, list[str]]
    warnings: tuple[str, ...]


def apply_access(
    settings: Settings, access_file: Path = ACCESS_FILE, bundle_dir: Path = BUNDLE_DIR
) -> AccessResult:
    """Make Superset's roles, row-level rules, dashboard roles and demo users match
    ``access.yaml`` for the bundle just imported and the published warehouse."""
    bundle = read_bundle(bundle_dir, source_datasets(settings).values())
    plan = plan_access(load_access(access_file), bundle, current_communes(settings.serving_db))
    result = apply_plan(settings, plan)
    removed = "; ".join(
        f"{kind} {', '.join(names)}" for kind, names in result.removed.items() if names
    )
    log.info(
        "superset: %d roles, %d row-level rules, demo users %s; removed: %s",
        result.roles, result.rules, ", ".join(result.users), removed or "nothing",
    )  # fmt: skip
    for warning in result.warnings:
        log.warning("superset: %s", warning)
    return result


def apply_plan(settings: Settings, plan: AccessPlan) -> AccessResult:
    """Run ``superset_assets/apply_access.py`` on ``plan`` in Superset's own environment."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    plan_path = settings.run_dir / "superset_access_plan.json"
    plan_path.write_text(plan.to_json(), encoding="utf-8")
    try:
        out = _run(
            settings,
            [str(_venv_bin(settings, "python")), str(APPLY_SCRIPT), str(plan_path)],
            "Applying superset_assets/access.yaml",
            {"IOC_DEMO_USERS_PASSWORD": settings.demo_users_password},
        )
    finally:
        plan_path.unlink(missing_ok=True)
    summary = json.loads(out.strip().splitlines()[-1])
    return AccessResult(
        roles=int(summary["roles"]),
        rules=int(summary["rules"]),
        users=tuple(user.username for user in plan.users),
        removed=summary["removed"],
        warnings=plan.warnings,
    )
