"""``ioc sources check NAME``: can we reach a source, and does it look like its contract?

Run before the first extract of a new source (and when one fails): it connects the way the kind
will, reads nothing into the lake, and reports one line per thing checked — sql: ``SELECT 1``,
then per table its row count and the declared columns the table lacks; rest: one request per
endpoint; files: the folder and how many files each pattern matches; mqtt: a connection to the
broker. Self-contained (connectorx, httpx, paho directly) so it does not depend on the kinds'
internals, and it never touches the source's durable MQTT session.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from connectors.registry import Source, TableSpec, expand_placeholders
from iochub.settings import Settings


@dataclass(frozen=True)
class CheckLine:
    target: str  # the connection, a table, an endpoint, a pattern
    ok: bool
    detail: str


def _from_env(source: Source) -> bool:
    connection = source.connection
    if connection.env:
        return bool(os.environ.get(connection.env))
    return bool(os.environ.get(f"AIRFLOW_CONN_{(connection.airflow_conn_id or '').upper()}"))


def _where(source: Source) -> str:
    return source.connection.env or f"Airflow connection {source.connection.airflow_conn_id}"


def check_files(source: Source, url: str) -> list[CheckLine]:
    folder = Path(url)
    if not folder.is_dir():
        return [CheckLine(str(folder), False, f"folder missing; set {_where(source)}")]
    lines = [CheckLine(str(folder), True, "folder exists")]
    assert source.files is not None
    everything = [p for p in folder.glob(source.files.pattern) if p.is_file()]
    lines.append(CheckLine(f"pattern {source.files.pattern}", True, f"{len(everything)} file(s)"))
    for table in source.tables:
        if table.pattern:
            count = sum(1 for p in everything if p.relative_to(folder).match(table.pattern))
            lines.append(
                CheckLine(f"{table.name} ({table.pattern})", count > 0, f"{count} file(s)")
            )
    return lines


def _sql_url(url: str) -> str:
    # connectorx wants mysql:// and postgresql://; sqlite paths as sqlite:///abs/path.
    if url.startswith("sqlite://") and not url.startswith("sqlite:///"):
        return "sqlite://" + url.removeprefix("sqlite:/")
    return url


def _probe(url: str) -> None:
    """Connect and run SELECT 1 with a short timeout; raises with the driver's message.
    (connectorx's pool retries a dead server for 30 s: too slow to report a typo.)"""
    if url.startswith("sqlite:"):
        path = Path("/" + url.removeprefix("sqlite:").lstrip("/"))
        if not path.is_file():
            raise OSError(f"no SQLite file {path}")
        import sqlite3

        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            con.execute("SELECT 1")
        return
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as pg:
            pg.execute("SELECT 1")
        return
    if parts.scheme == "mysql":
        import pymysql  # type: ignore[import-untyped, unused-ignore]

        my = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            database=parts.path.lstrip("/") or None,
            connect_timeout=5,
        )
        my.close()
        return
    raise OSError(f"unsupported database URL scheme {parts.scheme!r}")


def _table_relation(table: TableSpec) -> str | None:
    if table.table:
        return table.table
    if table.query and "{" not in table.query:  # a parameterised query cannot run as is
        return f"({table.query}) AS q"
    return None


def check_sql(source: Source, url: str, settings: Settings) -> list[CheckLine]:
    import connectorx as cx

    target = _sql_url(url)
    shown = urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl()
    try:
        _probe(target)
        lines = [CheckLine(shown, True, "SELECT 1 ok")]
    except BaseException as exc:  # connectorx raises RuntimeError or a Rust panic by driver
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        fallback = getattr(source.sql, "fallback", None)
        failed = CheckLine(shown, False, f"cannot connect: {exc}; check {_where(source)}")
        if not fallback:
            return [failed]
        # The demo's databases are SQLite files when no server was up at generation.
        target = _sql_url(expand_placeholders(fallback, settings))
        try:
            _probe(target)
        except BaseException as again:
            if isinstance(again, KeyboardInterrupt | SystemExit):
                raise
            return [failed, CheckLine(target, False, f"fallback: cannot connect: {again}")]
        lines = [CheckLine(shown, True, f"unreachable, declared fallback {target} answers")]
    for table in source.tables:
        relation = _table_relation(table)
        if relation is None:
            lines.append(CheckLine(table.name, True, "parameterised query: not counted"))
            continue
        try:
            count = cx.read_sql(
                target, f"SELECT COUNT(*) AS n FROM {relation}", return_type="arrow"
            )
            head = cx.read_sql(target, f"SELECT * FROM {relation} LIMIT 1", return_type="arrow")
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            lines.append(CheckLine(table.name, False, f"query failed: {exc}"))
            continue
        present = {name.lower() for name in head.column_names}
        declared = [*table.columns, *table.pii, *table.required]
        missing = [c for c in dict.fromkeys(declared) if c.lower() not in present]
        rows = count.column(0)[0].as_py()
        detail = f"{rows:,} rows, {len(present)} columns"
        if missing:
            detail += f"; contract columns missing: {', '.join(missing)}"
        lines.append(CheckLine(table.name, not missing, detail))
    return lines


def _bearer(source: Source, settings: Settings) -> dict[str, str]:
    assert source.rest is not None
    auth = source.rest.auth
    if auth.type == "basic":
        user = os.environ.get(auth.username_env or "", "")
        password = os.environ.get(auth.password_env or "", "")
        return {
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        }
    if auth.type != "bearer":
        return {}
    token = os.environ.get(auth.token_env or "") if auth.token_env else None
    if not token and auth.token_file:
        path = Path(expand_placeholders(auth.token_file, settings))
        token = path.read_text(encoding="utf-8").strip() if path.exists() else None
    return {"Authorization": f"Bearer {token}"} if token else {}


def check_rest(source: Source, url: str, settings: Settings) -> list[CheckLine]:
    import httpx

    assert source.rest is not None
    base = url.rstrip("/")
    if source.rest.default_port_offset and not _from_env(source):
        parts = urlsplit(base)
        if parts.port is not None and parts.hostname is not None:
            netloc = f"{parts.hostname}:{parts.port + source.rest.default_port_offset}"
            base = urlunsplit(parts._replace(netloc=netloc))
    headers = _bearer(source, settings)
    lines = []
    with httpx.Client(timeout=source.rest.timeout_seconds, headers=headers) as client:
        for table in source.tables:
            endpoint = f"{base}{table.endpoint}"
            started = time.perf_counter()
            try:
                if table.method == "POST":
                    response = client.post(endpoint, json=table.body or {})
                else:
                    response = client.get(endpoint)
            except httpx.HTTPError as exc:
                lines.append(
                    CheckLine(endpoint, False, f"unreachable: {exc}; check {_where(source)}")
                )
                continue
            ms = (time.perf_counter() - started) * 1000
            ok = response.status_code < 400
            hint = (
                ""
                if ok
                else " (check the credential)"
                if response.status_code in (401, 403)
                else ""
            )
            lines.append(
                CheckLine(endpoint, ok, f"HTTP {response.status_code} in {ms:.0f} ms{hint}")
            )
    return lines


def check_mqtt(source: Source, url: str) -> list[CheckLine]:
    import paho.mqtt.client as mqtt

    from connectors.kinds.mqtt import broker_address

    assert source.mqtt is not None
    host, port = broker_address(url)
    # Not the source's client id: connecting as it could take over (or wipe) its session.
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"{source.mqtt.client_id}-check-{os.getpid()}",
        clean_session=True,
    )
    result: list[object] = []
    client.on_connect = lambda _c, _u, _f, code, _p: result.append(code)
    try:
        client.connect(host, port, keepalive=10)
        deadline = time.monotonic() + 5
        while not result and time.monotonic() < deadline:
            client.loop(timeout=0.2)
    except OSError as exc:
        return [
            CheckLine(f"mqtt://{host}:{port}", False, f"unreachable: {exc}; check {_where(source)}")
        ]
    finally:
        client.disconnect()
    if not result or getattr(result[0], "is_failure", False):
        why = str(result[0]) if result else "no CONNACK within 5 s"
        return [CheckLine(f"mqtt://{host}:{port}", False, f"refused: {why}")]
    lines = [CheckLine(f"mqtt://{host}:{port}", True, "connected")]
    lines += [CheckLine(f"{t.name} ({t.topic})", True, "topic declared") for t in source.tables]
    return lines


def check_source(source: Source, settings: Settings) -> list[CheckLine]:
    """One line per thing checked; any line not ok means the source is not usable as is."""
    try:
        url = source.connection.resolve(settings, dict(os.environ))
    except Exception as exc:  # RegistryError: the connection variable is unset
        return [CheckLine("connection", False, str(exc))]
    if source.kind == "files":
        return check_files(source, url)
    if source.kind == "sql":
        return check_sql(source, url, settings)
    if source.kind == "rest":
        return check_rest(source, url, settings)
    return check_mqtt(source, url)
