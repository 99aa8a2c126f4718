"""The ``rest`` kind: JSON HTTP APIs read page by page into the lake.

For every declared table the kind sends the table's request (``endpoint``, ``method``, ``body``)
page after page, turns each page's records into an Arrow table and hands it to ``run.land``
(landing contract, pseudonymisation, Parquet part). What it deals with on the way:

- **auth** — none, bearer or basic, always by reference: the token comes from an environment
  variable, else from the token file the YAML names (the demo's ``portal766_token.txt``);
- **paging** — ``page`` (page number), ``offset`` (``page_param`` carries the row offset),
  ``cursor`` (the next cursor read from the response) or ``none``; in the query string, or in the
  JSON body for POST APIs (``pagination.in_body``). A page/offset read stops at the first page
  with fewer records than the page size;
- **records** — found at ``pagination.records_path`` (dotted), or at the table's own
  ``record_path`` when endpoints of one source differ. When that path holds a single object
  rather than a list, the API answers a *tree* (QĐ 766): the node lands as one row (first page
  only) and its paged sub-units under ``children_key`` as further rows with ``_parent_id``;
- **flattening** — nested objects become dotted column names (``a.b``), lists become JSON
  text, and every scalar lands as text: the landing contract casts to the declared types, so a
  field that is ``1`` on one page and ``1.5`` on the next never breaks the Arrow schema;
- **incremental reads** — ``since_param`` receives ``run.since(table)``; the watermark is the
  highest cursor value read (ISO dates/timestamps). Reporting APIs queried by period instead put
  ``{year}`` and ``{month}`` placeholders in the body: such a table (incremental cursor
  ``_period``) is read one calendar month at a time from ``run.since`` (``yyyy-mm``) to the
  current month, each row carrying ``_period``, and the watermark is the last month read (it is
  read again next run, since it was still open);
- **failures** — 5xx answers, connection errors and timeouts are retried ``retries`` times with
  exponential backoff and jitter, each retry logged; 429 waits for ``Retry-After`` (not counted
  as a retry, bounded); a client-side rate limit keeps under ``max_requests_per_second``. When
  retries run out, or the API refuses our credentials, ``SourceUnavailable`` says which URL,
  what it answered and what to check.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyarrow as pa

from connectors.kinds.base import ExtractRun, SourceUnavailable
from connectors.registry import RestPagination, RestSpec, Source, TableSpec, expand_placeholders
from iochub.settings import Settings

log = logging.getLogger(__name__)

PERIOD_COLUMN = "_period"  # the month (yyyy-mm) a period-queried row describes
PARENT_COLUMN = "_parent_id"  # in a tree answer, the id of the node a row is a sub-unit of
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
# 429 is the API asking us to slow down, not a failure: wait as told, but not forever.
MAX_RATE_LIMITED_WAITS = 50
MAX_RETRY_AFTER_SECONDS = 120.0


@dataclass
class RestStats:
    """What one run asked of the API: requests sent, retries made, 429s honoured."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


# The last run's request statistics per source (requests, retries, 429 waits), for the tests
# and anyone diagnosing a flaky API from a Python session.
run_stats: dict[str, RestStats] = {}


def base_url(run: ExtractRun, spec: RestSpec) -> str:
    """The API root: the connection, plus the demo port offset when it is the default URL."""
    url = run.connection().rstrip("/")
    connection = run.source.connection
    from_env = bool(
        (connection.env and os.environ.get(connection.env))
        or (
            connection.airflow_conn_id
            and os.environ.get(f"AIRFLOW_CONN_{connection.airflow_conn_id.upper()}")
        )
    )
    if spec.default_port_offset and not from_env:
        parts = urlsplit(url)
        if parts.port is None or parts.hostname is None:
            raise SourceUnavailable(
                f"{run.source.name}: default URL {url} has no port to add "
                f"default_port_offset {spec.default_port_offset} to"
            )
        netloc = f"{parts.hostname}:{parts.port + spec.default_port_offset}"
        url = urlunsplit(parts._replace(netloc=netloc))
    return url


def auth_headers(source: Source, spec: RestSpec, settings: Settings) -> dict[str, str]:
    """Request headers carrying the credential, read from its env variable or token file."""
    auth = spec.auth
    if auth.type == "none":
        return {}
    if auth.type == "basic":
        user = os.environ.get(auth.username_env or "")
        password = os.environ.get(auth.password_env or "")
        if not user or password is None:
            raise SourceUnavailable(
                f"{source.name}: basic auth needs {auth.username_env} and {auth.password_env} "
                "in the environment"
            )
        credential = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {credential}"}
    token = os.environ.get(auth.token_env or "") if auth.token_env else None
    if not token and auth.token_file:
        path = expand_placeholders(auth.token_file, settings)
        try:
            with open(path, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as exc:
            raise SourceUnavailable(
                f"{source.name}: no bearer token: {auth.token_env or 'no env variable'} is not "
                f"set and the token file {path} cannot be read ({exc.strerror})"
            ) from exc
    if not token:
        raise SourceUnavailable(
            f"{source.name}: no bearer token: set {auth.token_env} (or declare auth.token_file)"
        )
    return {"Authorization": f"Bearer {token}"}


def _retry_after(response: httpx.Response) -> float:
    """Seconds the API asked us to wait (delta-seconds or an HTTP date); 1 s when unsaid."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _message(response: httpx.Response) -> str:
    """The API's own explanation of an error answer, shortened."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(payload, dict):
        for key in ("message", "error", "detail"):
            if key in payload:
                return str(payload[key])[:200]
    return str(payload)[:200]


class RestClient:
    """One source's HTTP session: auth, client-side rate limit, retries, 429 handling."""

    def __init__(self, source: Source, spec: RestSpec, base: str, headers: dict[str, str]):
        self.source = source
        self.spec = spec
        self.base = base
        self.stats = RestStats()
        self._client = httpx.Client(
            base_url=base,
            headers={"Accept": "application/json", **headers},
            timeout=spec.timeout_seconds,
        )
        self._interval = 1.0 / spec.max_requests_per_second if spec.max_requests_per_second else 0
        self._last_sent = 0.0

    def close(self) -> None:
        self._client.close()

    def _pace(self) -> None:
        """Keep at most max_requests_per_second: wait out what is left of the interval."""
        if self._interval:
            wait = self._last_sent + self._interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_sent = time.monotonic()

    def _backoff(self, attempt: int) -> float:
        # Full jitter in the upper half, so clients retrying together spread out.
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
        return delay * random.uniform(0.5, 1.0)

    def request(
        self, method: str, path: str, params: dict[str, Any], body: dict[str, Any] | None
    ) -> Any:
        """The decoded JSON of one successful answer; SourceUnavailable when none comes."""
        url = f"{self.base}{path}"
        attempt = 0
        waits = 0
        while True:
            self._pace()
            self.stats.requests += 1
            problem: str
            try:
                response = self._client.request(
                    method, path, params=params or None, json=body if method == "POST" else None
                )
            except httpx.TimeoutException as exc:
                problem = f"timed out after {self.spec.timeout_seconds:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
                if status == 429 and waits < MAX_RATE_LIMITED_WAITS:
                    waits += 1
                    self.stats.rate_limited += 1
                    pause = _retry_after(response)
                    log.info(
                        "%s: 429 from %s; waiting %.1f s (Retry-After)",
                        self.source.name,
                        url,
                        pause,
                    )
                    time.sleep(pause)
                    continue
                if status in (401, 403):
                    raise SourceUnavailable(
                        f"{self.source.name}: {method} {url} answered {status} "
                        f"({_message(response)}): the API refused our credentials; check "
                        f"{self._credential_hint()}"
                    )
                if status < 400:
                    try:
                        return response.json()
                    except ValueError:
                        problem = f"answered {status} with a body that is not JSON"
                elif status >= 500 or status == 429:
                    problem = f"answered {status} ({_message(response)})"
                else:
                    raise SourceUnavailable(
                        f"{self.source.name}: {method} {url} answered {status} "
                        f"({_message(response)}): check the endpoint and request in the "
                        "source's YAML"
                    )
            if attempt >= self.spec.retries:
                raise SourceUnavailable(
                    f"{self.source.name}: {method} {url} {problem}; gave up after "
                    f"{self.spec.retries} retries. Check that the service is up and reachable "
                    f"from here (connection: {self._connection_hint()})"
                )
            pause = self._backoff(attempt)
            attempt += 1
            self.stats.retries += 1
            log.warning(
                "%s: %s %s %s; retry %d/%d in %.1f s",
                self.source.name,
                method,
                url,
                problem,
                attempt,
                self.spec.retries,
                pause,
            )
            time.sleep(pause)

    def _credential_hint(self) -> str:
        auth = self.spec.auth
        where = [w for w in (auth.token_env, auth.token_file, auth.username_env) if w]
        return " / ".join(where) or "the auth: block"

    def _connection_hint(self) -> str:
        connection = self.source.connection
        return connection.env or f"Airflow connection {connection.airflow_conn_id}"


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """One JSON object as one row: nested objects → dotted names, lists → JSON text, scalars →
    text (booleans as true/false, as the contract reads them)."""
    out: dict[str, str | None] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = json.dumps(value, ensure_ascii=False)
        elif value is None:
            out[name] = None
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def _at(payload: Any, path: str) -> Any:
    node = payload
    for key in [k for k in path.split(".") if k]:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(key)
        node = node[key]
    return node


def _fill(value: Any, period: tuple[int, int] | None) -> Any:
    """Body/params with the period placeholders filled (a bare placeholder becomes a number)."""
    if period is None:
        return value
    if isinstance(value, dict):
        return {k: _fill(v, period) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, period) for v in value]
    if isinstance(value, str):
        year, month = period
        if value == "{year}":
            return year
        if value == "{month}":
            return month
        return value.replace("{year}", str(year)).replace("{month}", f"{month:02d}")
    return value


def _has_period(value: Any) -> bool:
    text = json.dumps(value)
    return "{year}" in text or "{month}" in text


def months(start: str, end: datetime) -> Iterator[tuple[int, int]]:
    """Calendar months from ``start`` (anything beginning yyyy-mm) to ``end``'s month."""
    year, month = int(start[:4]), int(start[5:7])
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@dataclass
class Page:
    rows: list[dict[str, str | None]]
    paged: int  # records in the paged list (a tree's children), which decides the next page
    next_cursor: str | None


def _page(
    source: Source, table: TableSpec, spec: RestSpec, payload: Any, first: bool, url: str
) -> Page:
    paging = spec.pagination
    path = table.record_path or paging.records_path
    try:
        found = _at(payload, path)
    except KeyError as exc:
        keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise SourceUnavailable(
            f"{source.name}.{table.name}: the answer of {url} has no {path!r} (missing "
            f"{exc.args[0]!r}; top level: {keys}); check records_path/record_path in the YAML"
        ) from exc
    rows: list[dict[str, str | None]] = []
    if isinstance(found, dict):  # a tree: the node, then its paged sub-units
        children = found.get(spec.children_key) or []
        node = {k: v for k, v in found.items() if k != spec.children_key}
        if first:
            rows.append(flatten(node))
        parent = None if node.get("id") is None else str(node["id"])
        for child in children:
            rows.append({**flatten(child), PARENT_COLUMN: parent})
        paged = len(children)
    elif isinstance(found, list):
        rows = [flatten(r) if isinstance(r, dict) else {"value": str(r)} for r in found]
        paged = len(found)
    elif found is None:
        paged = 0
    else:
        raise SourceUnavailable(
            f"{source.name}.{table.name}: {path!r} in the answer of {url} is "
            f"{type(found).__name__}, not a list of records or a node"
        )
    cursor = None
    if paging.style == "cursor" and paging.next_cursor_path:
        try:
            value = _at(payload, paging.next_cursor_path)
        except KeyError:
            value = None
        cursor = None if value in (None, "") else str(value)
    return Page(rows, paged, cursor)


def _pages(
    client: RestClient,
    source: Source,
    table: TableSpec,
    spec: RestSpec,
    fixed: dict[str, Any],
) -> Iterator[Page]:
    """Every page of one request: the paging parameters moved along until the last page."""
    paging: RestPagination = spec.pagination
    assert table.endpoint is not None
    position: int | str | None = paging.first_page if paging.style == "page" else 0
    if paging.style == "cursor":
        position = None
    first = True
    while True:
        moving: dict[str, Any] = {}
        if paging.style in ("page", "offset"):
            moving = {paging.page_param: position, paging.size_param: paging.size}
        elif paging.style == "cursor":
            moving = {paging.size_param: paging.size}
            if position is not None:
                moving[paging.cursor_param] = position
        params: dict[str, Any] = {}
        body: dict[str, Any] | None = None
        if table.method == "POST":
            body = {**fixed, **(moving if paging.in_body else {})}
            params = {} if paging.in_body else moving
        else:  # a GET table's body entries are query parameters
            params = {**fixed, **moving}
        payload = client.request(table.method, table.endpoint, params, body)
        page = _page(source, table, spec, payload, first, f"{client.base}{table.endpoint}")
        yield page
        first = False
        if paging.style == "none":
            return
        if paging.style == "cursor":
            if page.next_cursor is None or page.paged == 0:
                return
            position = page.next_cursor
            continue
        if page.paged < paging.size:
            return
        assert isinstance(position, int)
        position += 1 if paging.style == "page" else page.paged


def _land(run: ExtractRun, table: TableSpec, rows: list[dict[str, str | None]]) -> None:
    for row in rows:
        row["_run_id"] = run.run_id
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    schema = pa.schema([pa.field(name, pa.string()) for name in columns])
    run.land(table, pa.Table.from_pylist(rows, schema=schema))


def _is_iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _extract_table(run: ExtractRun, client: RestClient, spec: RestSpec, table: TableSpec) -> None:
    source = run.source
    base_body = dict(table.body or {})
    since = run.since(table)
    if _has_period(base_body):
        if table.incremental is None or table.incremental.cursor != PERIOD_COLUMN or not since:
            raise SourceUnavailable(
                f"{source.name}.{table.name}: a body with {{year}}/{{month}} is read by period "
                f"and needs incremental: {{cursor: {PERIOD_COLUMN}, initial: 'yyyy-mm'}}"
            )
        for year, month in months(since, datetime.now(UTC)):
            period = f"{year}-{month:02d}"
            rows = 0
            for page in _pages(client, source, table, spec, _fill(base_body, (year, month))):
                for row in page.rows:
                    row[PERIOD_COLUMN] = period
                _land(run, table, page.rows)
                rows += len(page.rows)
            log.debug("%s.%s: %s: %d rows", source.name, table.name, period, rows)
            run.advance_watermark(table, period)
        return
    fixed = base_body
    if spec.since_param and since:
        fixed = {**fixed, spec.since_param: since}
    cursor = table.incremental.cursor if table.incremental else None
    highest: str | None = None
    total = 0
    for page in _pages(client, source, table, spec, fixed):
        if cursor:
            values = [v for r in page.rows if (v := r.get(cursor)) and _is_iso(v)]
            if values:
                top = max(values)
                highest = top if highest is None or top > highest else highest
        _land(run, table, page.rows)
        total += len(page.rows)
    log.info("%s.%s: %d rows (since %s)", source.name, table.name, total, since or "the start")
    run.advance_watermark(table, highest)


def extract_rest(run: ExtractRun) -> None:
    source = run.source
    spec = source.rest or RestSpec()
    client = RestClient(source, spec, base_url(run, spec), auth_headers(source, spec, run.settings))
    try:
        for table in source.tables:
            _extract_table(run, client, spec, table)
    finally:
        client.close()
        stats = client.stats
        log.info(
            "%s: %d requests, %d retries, %d rate-limited waits, statuses %s",
            source.name,
            stats.requests,
            stats.retries,
            stats.rate_limited,
            stats.statuses,
        )
        run_stats[source.name] = stats
