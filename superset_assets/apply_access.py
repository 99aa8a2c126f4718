"""Make Superset's roles, row-level rules, dashboard roles and demo users match an access plan.

Runs inside Superset's own environment (``.venv-superset/bin/python``), started by
``iochub.superset_access.apply_plan`` after the bundle import, with the path of the plan (JSON,
computed from ``superset_assets/access.yaml``, the bundle and the warehouse) as argument and the
demo users' password in ``IOC_DEMO_USERS_PASSWORD``. Works on the metadata database directly,
so Superset need not be running, and commits once at the end; applying a plan twice changes
nothing. Prints one JSON line: how many of each it now holds, and what it removed.

What it owns: the roles and users the plan names, the generated area roles (plan's
``area_role_pattern``), the row-level rules whose names start with ``rule_prefix`` and the
users whose e-mail is in ``user_email_domain``. Everything else in Superset is left alone.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any


class PlanError(RuntimeError):
    """The plan names something Superset does not hold (the bundle is not imported there)."""


def apply(plan: dict[str, Any], password: str) -> dict[str, Any]:
    from flask import current_app
    from superset import db, security_manager
    from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
    from superset.models.dashboard import Dashboard
    from superset.utils.core import RowLevelSecurityFilterType
    from werkzeug.security import check_password_hash, generate_password_hash

    session = db.session
    datasets = {str(table.uuid): table for table in session.query(SqlaTable)}
    wanted = {uuid for item in plan["roles"] + plan["rules"] for uuid in item["dataset_uuids"]}
    if missing := sorted(wanted - set(datasets)):
        raise PlanError(f"datasets {missing} of the bundle are not in Superset")

    builtin = {name: security_manager.find_role(name) for name in ("Gamma", "sql_lab")}
    if not all(role is not None and role.permissions for role in builtin.values()):
        raise PlanError("Superset's Gamma and sql_lab roles are empty: run `superset init`")

    def datasource_access(uuid: str) -> Any:
        perm = datasets[uuid].perm
        return security_manager.find_permission_view_menu(
            "datasource_access", perm
        ) or security_manager.add_permission_view_menu("datasource_access", perm)

    roles: dict[str, Any] = {}
    for spec in plan["roles"]:
        role = security_manager.find_role(spec["name"]) or security_manager.add_role(
            spec["name"], commit=False
        )
        permissions = list(builtin["Gamma"].permissions) if spec["gamma"] else []
        if spec["sql_lab"]:
            permissions += builtin["sql_lab"].permissions
        permissions += [datasource_access(uuid) for uuid in spec["dataset_uuids"]]
        role.permissions = sorted(set(permissions), key=lambda pvm: pvm.id)
        roles[spec["name"]] = role

    managed_rules = session.query(RowLevelSecurityFilter).filter(
        RowLevelSecurityFilter.name.startswith(plan["rule_prefix"])
    )
    stale_rules = {rule.name: rule for rule in managed_rules}
    for spec in plan["rules"]:
        rule = stale_rules.pop(spec["name"], None)
        if rule is None:
            rule = RowLevelSecurityFilter(name=spec["name"])
            session.add(rule)
        rule.filter_type = RowLevelSecurityFilterType.REGULAR.value
        rule.description = spec["description"]
        rule.clause = spec["clause"]
        rule.group_key = spec["group_key"]
        rule.roles = [roles[name] for name in spec["roles"]]
        rule.tables = [datasets[uuid] for uuid in spec["dataset_uuids"]]
    for rule in stale_rules.values():
        session.delete(rule)

    pattern = re.compile(plan["area_role_pattern"])
    stale_roles = [
        role
        for role in session.query(security_manager.role_model)
        if pattern.match(role.name) and role.name not in roles
    ]
    for role in stale_roles:
        session.delete(role)

    dashboards = {str(dash.uuid): dash for dash in session.query(Dashboard)}
    if missing := sorted(set(plan["dashboard_roles"]) - set(dashboards)):
        raise PlanError(f"dashboards {missing} of the bundle are not in Superset")
    for uuid, names in plan["dashboard_roles"].items():
        dashboards[uuid].roles = [roles[name] for name in names]

    def hashed() -> str:
        return str(
            generate_password_hash(
                password,
                method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
                salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
            )
        )

    planned_users = {spec["username"] for spec in plan["users"]}
    for spec in plan["users"]:
        user = security_manager.find_user(username=spec["username"])
        user_roles = [roles[name] for name in spec["roles"]]
        if user is None:
            security_manager.add_user(
                spec["username"],
                spec["first_name"],
                spec["last_name"],
                spec["email"],
                user_roles,
                hashed_password=hashed(),
                commit=False,
            )
            continue
        user.first_name, user.last_name = spec["first_name"], spec["last_name"]
        user.email, user.active, user.roles = spec["email"], True, user_roles
        if not check_password_hash(user.password or "", password):
            user.password = hashed()
    retired = [
        user
        for user in session.query(security_manager.user_model)
        if (user.email or "").endswith("@" + plan["user_email_domain"])
        and user.username not in planned_users
        and user.active
    ]
    for user in retired:  # kept, not deleted: their logs and saved queries point at them
        user.active, user.roles = False, []

    session.commit()
    return {
        "roles": len(roles),
        "rules": len(plan["rules"]),
        "dashboards": len(plan["dashboard_roles"]),
        "users": len(plan["users"]),
        "removed": {
            "roles": sorted(role.name for role in stale_roles),
            "rules": sorted(stale_rules),
            "users": sorted(user.username for user in retired),
        },
    }


def main(plan_path: str) -> None:
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    from superset.app import create_app

    with create_app().app_context():
        try:
            summary = apply(plan, os.environ["IOC_DEMO_USERS_PASSWORD"])
        except PlanError as exc:
            sys.exit(str(exc))
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
