"""``ioc sim down`` / ``ioc sim up``: take one source system of the province down, and back up.

The outage is real at the level the connector sees, so an extract fails the way it would against
a broken system: a PostgreSQL database stops accepting connections, a MariaDB database's tables
move away (the database is gone), a SQLite file or a drop folder is renamed (the share is not
mounted), an HTTP system answers 503 to its paths (``<system>.down`` flag files the simulator's
servers check on every request), and the MQTT stations' publisher stops (the stations go
silent). Which system a source reads comes from the registry (its resolved connection), so the
same names as ``ioc sources list`` are used.

Every outage is recorded in ``<sim-dir>/_outages/<source>.json`` with what was done, so ``up``
undoes exactly that and ``ioc sim advance`` can lift the outages, move the clock and put them
back (regenerating a database would otherwise bring it back up).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from connectors.registry import Source, load_registry
from iochub import processes
from iochub.settings import Settings

log = logging.getLogger(__name__)

OUTAGE_DIR = "_outages"
DOWN_SUFFIX = ".down"
MQTT_PUBLISHER = "iot-mqtt-publisher"  # simulator.iot's service name


class OutageError(Exception):
    """The outage cannot be applied or lifted; the message says what to do."""


@dataclass(frozen=True)
class Outage:
    """What ``down`` did to a source's system: ``action`` and its ``target``."""

    source: str
    action: str  # pg_no_connections | mysql_tables_moved | path_renamed | http_flag | mqtt_stopped
    target: str
    since: str


def _record_path(settings: Settings, source: str) -> Path:
    return settings.sim_dir / OUTAGE_DIR / f"{source}.json"


def _read(record: Path) -> Outage:
    return Outage(**json.loads(record.read_text(encoding="utf-8")))


def recorded_outages(sim_dir: Path) -> list[Outage]:
    """The outages in place in the province of ``sim_dir``, from their records."""
    return [_read(path) for path in sorted((sim_dir / OUTAGE_DIR).glob("*.json"))]


def active_outages(settings: Settings) -> list[Outage]:
    return recorded_outages(settings.sim_dir)


def http_flag(settings: Settings, source: Source) -> Path:
    """The flag file that takes an HTTP source's system down: the portal's own flag for the
    QĐ 766 feed, ``agriculture/api/<CODE>.down`` for an agriculture system's API."""
    endpoints = [table.endpoint or "" for table in source.tables]
    if any(e.startswith("/api/v1/reporting") for e in endpoints):
        from simulator.public_services.portal766 import DOWN_FLAG

        return settings.sim_dir / "public_services" / DOWN_FLAG
    codes = {e.split("/")[2] for e in endpoints if e.startswith("/api/") and e.count("/") >= 3}
    if len(codes) != 1:
        raise OutageError(f"{source.name}: cannot tell which simulated API serves {endpoints}")
    from simulator.agriculture.api import down_flag

    return down_flag(settings.sim_dir / "agriculture", codes.pop())


def _database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def _server_url(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path="").geturl()


def _pg_allow_connections(url: str, allow: bool) -> None:
    import psycopg
    from psycopg import sql

    name = _database_name(url)
    with psycopg.connect(f"{_server_url(url)}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.Literal(allow)
            )
        )
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )


def _mysql_move_tables(url: str, down: bool) -> None:
    """Move every table of the database to ``<name>__down`` (and drop the emptied database),
    or back: MariaDB has no rename of a database, and a table rename is atomic and keeps data."""
    import pymysql  # type: ignore[import-untyped, unused-ignore]

    parsed = urlparse(url)
    name = _database_name(url)
    shadow = f"{name}__down"
    source_db, target_db = (name, shadow) if down else (shadow, name)
    connection = pymysql.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        charset="utf8mb4",
    )
    try:
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS `{target_db}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [source_db],
            )
            tables = [row[0] for row in cur.fetchall()]
            if tables:
                cur.execute(
                    "RENAME TABLE "
                    + ", ".join(f"`{source_db}`.`{t}` TO `{target_db}`.`{t}`" for t in tables)
                )
            cur.execute(f"DROP DATABASE IF EXISTS `{source_db}`")
    finally:
        connection.close()


def _mqtt_publisher_argv(settings: Settings) -> list[str]:
    from simulator.serve import all_services

    for service in all_services(settings):
        if service.name == MQTT_PUBLISHER:
            return service.argv
    raise OutageError("the simulated province has no MQTT publisher")


def _apply(outage: Outage, down: bool, settings: Settings | None) -> None:
    """Put ``outage`` in place (``down``) or undo it; only the MQTT one needs ``settings``."""
    if outage.action == "pg_no_connections":
        _pg_allow_connections(outage.target, allow=not down)
    elif outage.action == "mysql_tables_moved":
        _mysql_move_tables(outage.target, down=down)
    elif outage.action == "http_flag":
        flag = Path(outage.target)
        if down:
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.write_text(f"taken down by `ioc sim down {outage.source}`\n", encoding="utf-8")
        else:
            flag.unlink(missing_ok=True)
    elif outage.action == "mqtt_stopped":
        if settings is None:
            raise OutageError("the MQTT publisher is managed with the demo's settings")
        if down:
            processes.stop(settings, f"sim-{MQTT_PUBLISHER}")
        else:
            processes.start(settings, f"sim-{MQTT_PUBLISHER}", _mqtt_publisher_argv(settings))
    elif outage.action == "path_renamed":
        path = Path(outage.target)
        renamed = path.with_name(path.name + DOWN_SUFFIX)
        (path.rename(renamed) if down else renamed.rename(path))
    else:
        raise OutageError(f"unknown outage action {outage.action!r} in {OUTAGE_DIR}/")


def _plan(settings: Settings, source: Source, sources: dict[str, Source]) -> tuple[str, str]:
    """The action and target that take ``source``'s system down."""
    environ = dict(os.environ)
    connection = source.connection.resolve(settings, environ)
    scheme = urlparse(connection).scheme.lower()
    if scheme in ("postgres", "postgresql"):
        return "pg_no_connections", connection
    if scheme in ("mysql", "mariadb"):
        return "mysql_tables_moved", connection
    if scheme in ("http", "https"):
        return "http_flag", str(http_flag(settings, source))
    if scheme in ("mqtt", "mqtts"):
        return "mqtt_stopped", MQTT_PUBLISHER
    path = Path(urlparse(connection).path if scheme in ("sqlite", "file") else connection)
    if not path.exists():
        raise OutageError(f"{source.name}: {path} does not exist (run `ioc sim generate` first)")
    sharing = [
        other.name
        for other in sources.values()
        if other.name != source.name and other.connection.resolve(settings, environ) == connection
    ]
    if sharing:
        log.warning("%s shares %s with %s: they go down too", source.name, path, sharing)
    return "path_renamed", str(path)


def take_down(settings: Settings, name: str) -> Outage:
    """Take the system ``name`` reads down; recorded so :func:`bring_up` can undo it."""
    sources = load_registry(settings)
    if name not in sources:
        raise OutageError(f"no source named {name!r} (see `ioc sources list`)")
    record = _record_path(settings, name)
    if record.exists():
        raise OutageError(f"{name} is already down (`ioc sim up {name}` brings it back)")
    action, target = _plan(settings, sources[name], sources)
    outage = Outage(name, action, target, datetime.now(UTC).isoformat(timespec="seconds"))
    _apply(outage, True, settings)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(asdict(outage), indent=2), encoding="utf-8")
    return outage


def bring_up(settings: Settings, name: str) -> Outage:
    """Undo the outage ``take_down`` recorded for ``name``."""
    record = _record_path(settings, name)
    if not record.exists():
        raise OutageError(f"{name} is not down (`ioc sim outages` lists what is)")
    outage = _read(record)
    _apply(outage, False, settings)
    record.unlink()
    return outage


@contextmanager
def lifted(sim_dir: Path) -> Iterator[list[Outage]]:
    """Undo the recorded outages of ``sim_dir`` for the block, then put them back (their
    records stay): regenerating the province would otherwise bring a database back up. The
    stopped MQTT publisher is left stopped: generating does not touch it."""
    outages = [o for o in recorded_outages(sim_dir) if o.action != "mqtt_stopped"]
    for outage in outages:
        _apply(outage, False, None)
    try:
        yield outages
    finally:
        for outage in outages:
            _apply(outage, True, None)
