"""Who sees what, end to end: ``superset_assets/access.yaml`` applied to a real Superset.

Builds the health fixture warehouse with the real pipeline, imports the bundle (which applies
the roles, row-level rules and demo users), starts Superset on a free port, and logs in through
the REST API as each demo user:

- each role's dashboard list is the one access.yaml gives it; other dashboards, and charts and
  datasets without the area column, are refused to a commune leader;
- every chart a commune leader can see answers through the chart data API exactly what the
  admin gets for that chart filtered to the leader's commune (and the rule visibly bites);
- in SQL Lab a commune leader gets only their commune from a granted table (the warehouse's own
  count), and is refused other tables and the DuckDB statements Superset cannot see tables in;
  no SQL reaches the server's file system;
- importing again changes nothing, and a commune or user that left access.yaml or the
  warehouse loses its role, rule or login.

Run: ``.venv/bin/pytest -m e2e tests/e2e/test_superset_access.py -v``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from iochub import superset
from iochub.settings import Settings
from iochub.superset_access import (
    DEMO_EMAIL_DOMAIN,
    AccessPlan,
    Bundle,
    PlannedUser,
    UserSpec,
    apply_access,
    apply_plan,
    current_communes,
    load_access,
    plan_access,
    read_bundle,
)
from iochub.superset_sources import source_datasets
from tests.e2e.market_prices import MARKET_PRICES

pytestmark = pytest.mark.e2e

ACCESS = load_access()
BUNDLE = read_bundle(superset.BUNDLE_DIR)


def imported(settings: Settings) -> Bundle:
    """The bundle as Superset imports it: with the published source marts' datasets."""
    return read_bundle(superset.BUNDLE_DIR, source_datasets(settings).values())


COMMUNE_USERS = [user for user in ACCESS.users if user.communes]

# Row counts of Superset's metadata tables that access.yaml decides (read with Superset's own
# SQLAlchemy, so SQLite and PostgreSQL metadata databases both work).
_COUNT_SCRIPT = r"""
import json, os
import sqlalchemy as sa
queries = {
    "roles": "SELECT count(*) FROM ab_role",
    "role_permissions": "SELECT count(*) FROM ab_permission_view_role",
    "active_users": "SELECT count(*) FROM ab_user WHERE active",
    "user_roles": "SELECT count(*) FROM ab_user_role",
    "rules": "SELECT count(*) FROM row_level_security_filters",
    "rule_roles": "SELECT count(*) FROM rls_filter_roles",
    "rule_tables": "SELECT count(*) FROM rls_filter_tables",
    "dashboard_roles": "SELECT count(*) FROM dashboard_roles",
}
with sa.create_engine(os.environ["IOC_SUPERSET_DB_URL"]).connect() as conn:
    print(json.dumps({k: conn.execute(sa.text(q)).scalar() for k, q in queries.items()}))
"""


def metadata_counts(settings: Settings) -> dict[str, int]:
    python = str(settings.superset_venv / "bin" / "python")
    out = superset._run(settings, [python, "-c", _COUNT_SCRIPT], "counting metadata rows")
    counts: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return counts


class Session:
    """A REST session of one Superset user (JWT + CSRF token)."""

    def __init__(self, settings: Settings, username: str, password: str) -> None:
        base = f"http://127.0.0.1:{settings.superset_port}"
        self.client = httpx.Client(base_url=base, timeout=120)
        login = self.client.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
        )
        assert login.status_code == 200, (username, login.text[:300])
        self.client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self.client.get("/api/v1/security/csrf_token/")
        self.client.headers["X-CSRFToken"] = csrf.json()["result"]
        self.client.headers["Referer"] = base

    def listing(self, resource: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/{resource}/", params={"q": "(page_size:100)"})
        assert response.status_code == 200, response.text[:300]
        result: list[dict[str, Any]] = response.json()["result"]
        return result

    def sql(self, database_id: int, sql: str) -> httpx.Response:
        return self.client.post(
            "/api/v1/sqllab/execute/",
            json={"database_id": database_id, "sql": sql, "runAsync": False, "queryLimit": 1000},
        )


@pytest.fixture(scope="module")
def site(ioc_home: Settings, serving_db: Path) -> Iterator[Settings]:
    settings = ioc_home
    superset.bootstrap(settings, echo=False)
    assert superset.import_assets(settings) == "offline"  # the bundle, then access.yaml
    superset.start(settings)
    try:
        yield settings
    finally:
        superset.stop(settings)


@pytest.fixture(scope="module")
def admin(site: Settings) -> Session:
    return Session(site, superset.ADMIN_USER, site.admin_password)


def login(settings: Settings, username: str) -> Session:
    return Session(settings, username, settings.demo_users_password)


def plan(settings: Settings) -> AccessPlan:
    return plan_access(ACCESS, imported(settings), current_communes(settings.serving_db))


def test_each_role_sees_the_dashboards_access_yaml_gives_it(site: Settings) -> None:
    every = {d.slug for d in BUNDLE.dashboards}
    for user in ACCESS.users:
        (role,) = [r for r in ACCESS.roles if r.name == user.role]
        expected = every if role.dashboards is None else set(role.dashboards)
        seen = {d["slug"] for d in login(site, user.username).listing("dashboard")}
        assert seen == expected, user.username


def test_commune_leader_is_refused_what_access_yaml_does_not_give(
    site: Settings, admin: Session
) -> None:
    user = COMMUNE_USERS[0]
    leader = login(site, user.username)
    (role,) = [r for r in ACCESS.roles if r.name == user.role]
    assert role.dashboards is not None
    others = {d.slug for d in BUNDLE.dashboards if d.slug} - set(role.dashboards)
    assert others, "every dashboard is a commune leader's: nothing to refuse"
    for slug in sorted(others):
        assert leader.client.get(f"/api/v1/dashboard/{slug}").status_code in {403, 404}, slug

    granted = {d.uuid for d in imported(site).datasets if ACCESS.area_column in d.columns}
    assert {d["uuid"] for d in leader.listing("dataset")} == granted
    refused = {d["id"] for d in admin.listing("dataset") if d["uuid"] not in granted}
    assert refused, "every dataset has the area column: nothing to refuse"
    for dataset_id in sorted(refused):
        assert leader.client.get(f"/api/v1/dataset/{dataset_id}").status_code in {403, 404}
    refused_charts = [c for c in admin.listing("chart") if c["datasource_id"] in refused]
    assert refused_charts, "no chart on a dataset without the area column"
    for chart in refused_charts:
        response = leader.client.get(f"/api/v1/chart/{chart['id']}/data/")
        assert response.status_code in {403, 404}, chart["slice_name"]


def _rows_of(chart: dict[str, Any]) -> dict[str, Any]:
    """A query context for every row of a chart's dataset (area column and the map's feature):
    what Superset's legacy endpoint reads for a deck.gl GeoJSON chart, under the same rules."""
    params = json.loads(chart["params"])
    return {
        "datasource": {"id": chart["datasource_id"], "type": chart["datasource_type"]},
        "queries": [
            {
                "columns": [ACCESS.area_column, params["geojson"]],
                "filters": [],
                "orderby": [[ACCESS.area_column, True], [params["geojson"], True]],
                "row_limit": params.get("row_limit", 10000),
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }


def _filtered_to(query_context: dict[str, Any], code: str) -> dict[str, Any]:
    for query in query_context["queries"]:
        query["filters"] = [
            *query.get("filters", []),
            {"col": ACCESS.area_column, "op": "==", "val": code},
        ]
    return query_context


@pytest.mark.parametrize("user", COMMUNE_USERS, ids=lambda user: user.username)
def test_commune_leader_charts_hold_only_their_commune(
    site: Settings, admin: Session, user: UserSpec
) -> None:
    """Each chart the leader can see, through the chart data API, equals the admin's same
    chart filtered to the leader's commune."""
    (code,) = user.communes
    leader = login(site, user.username)
    charts = leader.listing("chart")
    on_dashboards = {
        chart["id"]
        for dashboard in leader.listing("dashboard")
        for chart in leader.client.get(f"/api/v1/dashboard/{dashboard['id']}/charts").json()[
            "result"
        ]
    }
    assert on_dashboards, "the leader has no dashboard chart to check"
    assert on_dashboards <= {chart["id"] for chart in charts}, "dashboard charts not granted"
    shown = hidden = 0
    for chart in charts:
        name = chart["slice_name"]
        saved = admin.client.get(f"/api/v1/chart/{chart['id']}").json()["result"]
        if saved["query_context"]:
            response = leader.client.get(f"/api/v1/chart/{chart['id']}/data/")
            query_context = json.loads(saved["query_context"])
        else:  # a legacy deck.gl GeoJSON map: its rows, asked for the way any chart asks
            query_context = _rows_of(chart)
            response = leader.client.post("/api/v1/chart/data", json=query_context)
        assert response.status_code == 200, (name, response.text[:300])
        mine = [result["data"] for result in response.json()["result"]]
        everyone = admin.client.post("/api/v1/chart/data", json=query_context)
        theirs = admin.client.post("/api/v1/chart/data", json=_filtered_to(query_context, code))
        assert theirs.status_code == 200, (name, theirs.text[:300])
        assert mine == [result["data"] for result in theirs.json()["result"]], name
        shown += sum(map(len, mine))
        hidden += sum(len(result["data"]) for result in everyone.json()["result"])
    hidden -= shown
    assert shown > 0, f"the warehouse has episodes of {code}: some chart must show them"
    assert hidden > 0, "no chart shows the admin more rows: the rule did not bite"


def _rows(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text[:500]
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _error_type(response: httpx.Response) -> str:
    assert response.status_code != 200, response.text[:500]
    return str(response.json()["errors"][0]["error_type"])


def test_sql_lab_gives_a_commune_leader_only_their_commune(
    site: Settings, admin: Session, tmp_path: Path
) -> None:
    user = COMMUNE_USERS[0]
    (code,) = user.communes
    leader = login(site, user.username)
    (database,) = leader.listing("database")
    with duckdb.connect(str(site.serving_db), read_only=True) as con:
        row = con.execute(
            "select sum(episodes) from marts.agg_health_episode_daily_commune "
            "where commune_code = ?",
            [code],
        ).fetchone()
    assert row is not None and row[0], f"the fixture warehouse has episodes of {code}"
    rows = _rows(
        leader.sql(
            database["id"],
            "select commune_code, sum(episodes) as episodes "
            "from marts.agg_health_episode_daily_commune group by commune_code",
        )
    )
    assert rows == [{"commune_code": code, "episodes": row[0]}]

    for table in ("marts.fct_health_episode", "marts.dim_admin_unit"):
        refused = leader.sql(database["id"], f"select count(*) from {table}")
        assert _error_type(refused) == "TABLE_SECURITY_ACCESS_ERROR", table

    # DuckDB statements in which Superset finds no table; unchecked, they read any table.
    leak = tmp_path / "leak.csv"
    for sql in (
        "summarize marts.fct_health_episode",
        "select * from (summarize marts.fct_health_episode)",
        "pivot marts.fct_health_episode on visit_type_code using count(*)",
        "select * from (pivot marts.fct_health_episode on visit_type_code using count(*))",
        "call pragma_table_info('marts.fct_health_episode')",
        f"copy marts.agg_health_episode_daily_commune to '{leak}'",
        f"attach '{site.build_db}' as build (read_only)",
    ):
        assert _error_type(leader.sql(database["id"], sql)) == "QUERY_SECURITY_ACCESS_ERROR", sql

    # The same in a chart's custom SQL, through the chart data API.
    (agg,) = [
        d
        for d in leader.listing("dataset")
        if d["table_name"] == "agg_health_episode_daily_commune"
    ]
    custom_sql = {
        "datasource": {"id": agg["id"], "type": "table"},
        "queries": [
            {
                "columns": [
                    {
                        "expressionType": "SQL",
                        "label": "leak",
                        "sqlExpression": "exists (summarize marts.fct_health_episode)",
                    }
                ],
                "metrics": [{"expressionType": "SQL", "sqlExpression": "count(*)", "label": "n"}],
                "row_limit": 10,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    assert leader.client.post("/api/v1/chart/data", json=custom_sql).status_code == 403

    # Admins pass the statement check, yet Superset's DuckDB has no file system.
    copied = admin.sql(database["id"], f"copy marts.agg_health_episode_daily_commune to '{leak}'")
    assert "file system operations are disabled" in copied.text
    assert not leak.exists()


def test_a_published_source_is_a_dataset_read_with_the_same_rules(site: Settings) -> None:
    """agri_dt03 is declared ``publish: true``: its mart reached Superset as a dataset made
    from the registry, titled from it, read whole by the operator and by commune."""
    table = "src_agri_dt03__market_price"
    operator = login(site, "vanhanh")
    (dataset,) = [d for d in operator.listing("dataset") if d["table_name"] == table]
    assert dataset["schema"] == "marts"
    columns = operator.client.get(f"/api/v1/dataset/{dataset['id']}").json()["result"]["columns"]
    titles = {c["column_name"]: c["verbose_name"] for c in columns}
    assert titles["price_vnd_kg"] == "Giá (Price, VND/kg)"
    (database,) = operator.listing("database")
    sql = f"select count(*) as n, sum(price_vnd_kg) as s from marts.{table}"
    every = _rows(operator.sql(database["id"], sql))
    assert every == [{"n": len(MARKET_PRICES), "s": sum(p[-1] for p in MARKET_PRICES)}]

    user = COMMUNE_USERS[0]
    (code,) = user.communes
    leader = login(site, user.username)
    mine = _rows(
        leader.sql(
            database["id"],
            f"select commune_code, count(*) as n from marts.{table} group by commune_code",
        )
    )
    assert mine == [{"commune_code": code, "n": sum(p[2] == code for p in MARKET_PRICES)}]


def test_import_again_changes_nothing_and_removes_what_left(site: Settings) -> None:
    communes = current_communes(site.serving_db)
    datasets = imported(site).datasets
    area = [d for d in datasets if ACCESS.area_column in d.columns]
    before = metadata_counts(site)
    assert before["rules"] == len(communes) + 1  # one per commune, and "no commune, no rows"
    assert before["rule_tables"] == len(datasets) + len(communes) * len(area)
    assert before["active_users"] == len(ACCESS.users) + 1  # and admin
    assert before["dashboard_roles"] == sum(len(r) for r in plan(site).dashboard_roles.values())

    assert superset.import_assets(site) == "rest"
    assert metadata_counts(site) == before

    # A commune and a user that then leave the warehouse and access.yaml: their role, rule and
    # login go at the next import.
    gone = PlannedUser(
        username="lanhdao_xa_99999",
        first_name="Lãnh đạo",
        last_name="Xã Thử",
        email=f"lanhdao_xa_99999@{DEMO_EMAIL_DOMAIN}",
        roles=("Commune Leader", "Commune 99999"),
    )
    wider = plan_access(ACCESS, imported(site), {**communes, "99999": "Xã Thử (test)"})
    apply_plan(site, dataclasses.replace(wider, users=(*wider.users, gone)))
    assert metadata_counts(site) != before
    result = apply_access(site)
    assert result.removed == {
        "roles": ["Commune 99999"],
        "rules": ["iochub: Commune 99999"],
        "users": ["lanhdao_xa_99999"],
    }
    assert metadata_counts(site) == before
    refused = httpx.post(
        f"http://127.0.0.1:{site.superset_port}/api/v1/security/login",
        json={"username": gone.username, "password": site.demo_users_password, "provider": "db"},
    )
    assert refused.status_code == 401
