"""The ``rest`` kind against the demo province's real HTTP servers (QĐ 766 feed, agriculture APIs).

Every count is checked against the API itself, paged independently here with httpx: rows in =
landed + quarantined on every manifest, rows landed are really in the Parquet parts, paging
reaches the last page, and failures (503s, 429s, a bad token, an outage, a closed port) end the
way the kind promises. The 503/429 behaviour is driven by extra instances of the simulator's own
portal server (its seeded error rate and rate limit turned up), not by mocks.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import httpx
import pytest

from connectors.extract import extract_source
from connectors.kinds import rest
from connectors.kinds.base import ExtractOptions, SourceUnavailable
from connectors.landing import Manifest
from connectors.registry import Source, load_source
from iochub.settings import Settings

PORTAL_OFFSET = 66
AGRI_OFFSET = 100
SINCE_766 = "2025-06"  # the province fixture's first month


def _months_since(start: str) -> list[str]:
    now = datetime.now(UTC)
    return [f"{y}-{m:02d}" for y, m in rest.months(start, now)]


def _token(settings: Settings) -> str:
    path = settings.sim_dir / "public_services" / "portal766_token.txt"
    return path.read_text(encoding="utf-8").strip()


def _call(client: httpx.Client, method: str, url: str, **kwargs: Any) -> Any:
    """One independent API call, riding out the feed's seeded 503s and its 429s."""
    for _ in range(30):
        response = client.request(method, url, **kwargs)
        if response.status_code in (429, 503):
            time.sleep(1.0)
            continue
        response.raise_for_status()
        return response.json()
    raise AssertionError(f"{url} kept failing")


def _agri_items(settings: Settings, code: str, table: str, since: str | None = None) -> list[Any]:
    """Every record the agriculture API serves for a table, paged independently (size 50)."""
    base = f"http://127.0.0.1:{settings.sim_port_base + AGRI_OFFSET}/api/{code}/{table}"
    items: list[Any] = []
    with httpx.Client(timeout=30) as client:
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "page_size": 50}
            if since:
                params["since"] = since
            doc = _call(client, "GET", base, params=params)
            items += doc["items"]
            if page >= doc["pages"]:
                break
            page += 1
        assert len(items) == doc["total"] or doc["total"] == 0
    return items


def _landed(settings: Settings, source: str, table: str) -> list[dict[str, Any]]:
    files = sorted((settings.raw_dir / source / table).rglob("*.parquet"))
    if not files:
        return []
    con = duckdb.connect()
    try:
        cursor = con.execute(
            "SELECT * FROM read_parquet(?, union_by_name=true)", [[str(p) for p in files]]
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _source(settings: Settings, name: str) -> Source:
    """One of this kind's sources, read alone: other sectors' files being edited elsewhere
    must not fail these tests."""
    (path,) = settings.sources_dir.rglob(f"{name}.yaml")
    return load_source(path)


def _run(name: str, settings: Settings, options: ExtractOptions | None = None) -> Manifest:
    return extract_source(_source(settings, name), settings, options)


def _check_manifest(manifest: Manifest) -> None:
    for table, rows_in in manifest.rows_in.items():
        landed = manifest.rows_landed.get(table, 0)
        quarantined = manifest.rows_quarantined.get(table, 0)
        assert rows_in == landed + quarantined, (manifest.source, table)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def own_portal(province: Settings) -> Iterator[Any]:
    """Start extra instances of the simulator's QĐ 766 server on free ports, stopped after."""
    from simulator.public_services.portal766 import make_server

    servers = []

    def start(rate_limit: int, error_rate: float, seed: int) -> str:
        port = _free_port()
        server = make_server(province.sim_dir, port, rate_limit, error_rate, seed)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _with_rest(source: Source, **changes: Any) -> Source:
    assert source.rest is not None
    return source.model_copy(update={"rest": source.rest.model_copy(update=changes)})


def _only(source: Source, *tables: str) -> Source:
    return source.model_copy(update={"tables": [t for t in source.tables if t.name in tables]})


def test_every_agriculture_api_lands_what_it_serves(lake_home: Settings) -> None:
    paths = sorted((lake_home.sources_dir / "agriculture").glob("agri_*.yaml"))
    rest_sources = [s for s in map(load_source, paths) if s.kind == "rest"]
    assert len(rest_sources) == 6
    for source in rest_sources:
        manifest = _run(source.name, lake_home)
        _check_manifest(manifest)
        assert not manifest.drift, (source.name, manifest.drift)
        if manifest.quarantine_path:
            reasons = duckdb.sql(
                f"SELECT DISTINCT reason FROM '{lake_home.lake_dir / manifest.quarantine_path}'"
            ).fetchall()
            # The APIs' only row defect the contract rejects: a negative quantity.
            assert {r for (r,) in reasons} == {"out_of_range"}, (source.name, reasons)
        code = source.name.removeprefix("agri_").upper()
        for table in source.tables:
            served = _agri_items(lake_home, code, table.name)
            assert served, f"{source.name}.{table.name} serves nothing"
            assert manifest.rows_in[table.name] == len(served), (source.name, table.name)
            landed = _landed(lake_home, source.name, table.name)
            assert len(landed) == manifest.rows_landed.get(table.name, 0)
            quarantined = manifest.rows_quarantined.get(table.name, 0)
            # The province has ~1% defects: almost everything lands.
            assert quarantined <= 0.2 * len(served)
            # Every record the API holds is in the lake or in quarantine, by id.
            landed_ids = {r["record_id"] for r in landed}
            missing = {i["record_id"] for i in served} - landed_ids
            assert len(missing) <= quarantined
            assert manifest.watermark_after[table.name] == max(i["report_date"] for i in served)


def test_portal766_lands_every_month_and_unit(lake_home: Settings) -> None:
    manifest = _run("portal766", lake_home, ExtractOptions(since=SINCE_766))
    _check_manifest(manifest)
    # The feed's numbers are consistent and every field is declared: nothing quarantined, no
    # drift (a failure here means the contract in portal766.yaml misreads the feed).
    assert not any(manifest.rows_quarantined.values()), manifest.rows_quarantined
    assert not manifest.drift, manifest.drift
    months = _months_since(SINCE_766)
    url = f"http://127.0.0.1:{lake_home.sim_port_base + PORTAL_OFFSET}"
    headers = {"Authorization": f"Bearer {_token(lake_home)}"}
    source = _source(lake_home, "portal766")
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for table in source.tables:
            assert table.endpoint is not None
            if table.name == "formalities":
                doc = _call(client, "POST", table.endpoint, json={"page": 1, "size": 500})
                assert manifest.rows_in["formalities"] == doc["data"]["total"] > 0
                continue
            body = {"timeType": "month", "year": 2025, "month": 8, "rootDepartmentId": "82"}
            doc = _call(client, "POST", table.endpoint, json={**body, "page": 1, "size": 500})
            units = 1 + doc["data"]["totalChildren"]
            assert units > 50
            # One province row and one row per commune, for every month.
            assert manifest.rows_in[table.name] == units * len(months), table.name
            assert manifest.watermark_after[table.name] == months[-1]
            landed = _landed(lake_home, "portal766", table.name)
            assert len(landed) == manifest.rows_landed[table.name]
            root = [r for r in landed if r["_period"] == "2025-08" and r["id"] == "82"]
            assert len(root) == 1
            if "totalReceived" in doc["data"]:
                assert root[0]["totalReceived"] == doc["data"]["totalReceived"]
            children = [r for r in landed if r["_period"] == "2025-08" and r["_parent_id"] == "82"]
            assert {r["id"] for r in children} <= {c["id"] for c in doc["data"]["children"]}
    # The reporting months really hold dossiers.
    dvc = _landed(lake_home, "portal766", "dvc_progress")
    assert sum(r["totalReceived"] for r in dvc if r["id"] == "82") > 0


def test_small_pages_reach_the_last_page(lake_home: Settings) -> None:
    # The agriculture API with 7 records a page: many pages, the same records.
    source = _with_rest(
        _source(lake_home, "agri_kdtv01"),
        pagination=_source(lake_home, "agri_kdtv01").rest.pagination.model_copy(  # type: ignore[union-attr]
            update={"size": 7}
        ),
    )
    manifest = extract_source(source, lake_home)
    _check_manifest(manifest)
    stats = rest.run_stats["agri_kdtv01"]
    for table in source.tables:
        served = _agri_items(lake_home, "KDTV01", table.name)
        assert manifest.rows_in[table.name] == len(served)
    served_total = sum(len(_agri_items(lake_home, "KDTV01", t.name)) for t in source.tables)
    # ceil(n / 7) pages per table, plus one empty page when n is a multiple of 7.
    assert stats.requests - stats.retries - stats.rate_limited >= served_total // 7
    # The 766 trees with 10 communes a page: the province node once, every commune once.
    portal = _source(lake_home, "portal766")
    assert portal.rest is not None
    small = _only(
        _with_rest(portal, pagination=portal.rest.pagination.model_copy(update={"size": 10})),
        "dvc_progress",
    )
    month = _months_since(SINCE_766)[-1]  # the current month only: 11 pages
    manifest = extract_source(small, lake_home, ExtractOptions(since=month))
    _check_manifest(manifest)
    landed = [r for r in _landed(lake_home, "portal766", "dvc_progress") if r["_period"] == month]
    ids = [r["id"] for r in landed]
    assert len(ids) == len(set(ids))
    assert ids.count("82") == 1
    root = next(r for r in landed if r["id"] == "82")
    assert len(ids) == root["totalChildren"] + 1


def test_injected_503s_are_retried(
    lake_home: Settings, own_portal: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    # The simulator's portal with 30% seeded 503s (the session server's 2% is too rare to test).
    monkeypatch.setenv("IOC_PORTAL766_URL", own_portal(rate_limit=1000, error_rate=0.3, seed=5))
    portal = _source(lake_home, "portal766")
    assert portal.rest is not None
    source = _only(
        _with_rest(portal, pagination=portal.rest.pagination.model_copy(update={"size": 20})),
        "dvc_progress",
    )
    months = _months_since(SINCE_766)[-3:]  # 3 months × 6 pages
    with caplog.at_level(logging.WARNING, logger="connectors.kinds.rest"):
        manifest = extract_source(source, lake_home, ExtractOptions(since=months[0]))
    _check_manifest(manifest)
    stats = rest.run_stats["portal766"]
    assert stats.statuses.get(503, 0) > 0
    assert stats.retries == stats.statuses[503]
    retried = [r for r in caplog.records if "retry" in r.getMessage() and "503" in r.getMessage()]
    assert len(retried) == stats.retries
    units = manifest.rows_in["dvc_progress"] // len(months)
    assert manifest.rows_in["dvc_progress"] == units * len(months) and units > 50


def test_rate_limit_429_is_honoured(
    lake_home: Settings, own_portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The feed's real limit (20 requests/s), driven faster: no client-side limit, 5-unit pages.
    monkeypatch.setenv("IOC_PORTAL766_URL", own_portal(rate_limit=20, error_rate=0.0, seed=1))
    portal = _source(lake_home, "portal766")
    assert portal.rest is not None
    source = _only(
        _with_rest(
            portal,
            max_requests_per_second=None,
            pagination=portal.rest.pagination.model_copy(update={"size": 5}),
        ),
        "dvc_progress",
    )
    month = _months_since(SINCE_766)[-2:]  # the last two months: 2 × 21 pages
    started = time.monotonic()
    manifest = extract_source(source, lake_home, ExtractOptions(since=month[0]))
    elapsed = time.monotonic() - started
    _check_manifest(manifest)
    stats = rest.run_stats["portal766"]
    assert stats.rate_limited > 0, stats
    assert stats.retries == 0
    assert stats.statuses[429] == stats.rate_limited
    assert stats.requests - stats.rate_limited > 40
    # Honouring Retry-After keeps the run at about 20 answered requests a second.
    assert (stats.requests - stats.rate_limited) / elapsed < 25
    periods = {r["_period"] for r in _landed(lake_home, "portal766", "dvc_progress")}
    assert periods == set(_months_since(month[0]))


def test_bad_token_fails_with_a_clear_error(
    lake_home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_PORTAL766_TOKEN", "not-the-token")
    with pytest.raises(SourceUnavailable) as err:
        _run("portal766", lake_home, ExtractOptions(since="2025-09"))
    message = str(err.value)
    assert "401" in message and "IOC_PORTAL766_TOKEN" in message and "credentials" in message
    assert not list((lake_home.manifest_dir / "portal766").glob("*.json"))
    # No token anywhere: says where it looked.
    monkeypatch.delenv("IOC_PORTAL766_TOKEN")
    source = _source(lake_home, "portal766")
    assert source.rest is not None
    orphan = _with_rest(
        source,
        auth=source.rest.auth.model_copy(update={"token_file": "{sim}/no/such/token.txt"}),
    )
    with pytest.raises(SourceUnavailable, match="token file"):
        extract_source(orphan, lake_home)


def test_portal_outage_fails_after_its_retries(lake_home: Settings, caplog: Any) -> None:
    flag = lake_home.sim_dir / "public_services" / "portal766.down"
    source = _with_rest(_source(lake_home, "portal766"), retries=2)
    flag.touch()
    try:
        with (
            caplog.at_level(logging.WARNING, logger="connectors.kinds.rest"),
            pytest.raises(SourceUnavailable) as err,
        ):
            extract_source(source, lake_home, ExtractOptions(since="2025-09"))
    finally:
        flag.unlink()
    message = str(err.value)
    assert "503" in message and "gave up after 2 retries" in message
    assert "dvc-progress-tree" in message and "IOC_PORTAL766_URL" in message
    assert rest.run_stats["portal766"].requests == 3
    assert len([r for r in caplog.records if "retry" in r.getMessage()]) == 2
    assert not list((lake_home.manifest_dir / "portal766").glob("*.json"))


def test_closed_port_fails_after_its_retries(
    lake_home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()  # nothing listens there any more
    monkeypatch.setenv("IOC_AGRI_KL02_URL", f"http://127.0.0.1:{port}")
    source = _with_rest(_source(lake_home, "agri_kl02"), retries=1, timeout_seconds=2)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as err:
        extract_source(source, lake_home)
    assert time.monotonic() - started < 10
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "connection failed" in message
    assert "gave up after 1 retries" in message and "IOC_AGRI_KL02_URL" in message
    assert rest.run_stats["agri_kl02"].requests == 2


def test_second_run_reads_only_from_the_watermark(lake_home: Settings) -> None:
    jsonl = lake_home.sim_dir / "agriculture" / "api" / "TY03" / "animal_movement.jsonl"
    original = jsonl.read_text(encoding="utf-8")
    first = _run("agri_ty03", lake_home)
    _check_manifest(first)
    watermark = first.watermark_after["animal_movement"]
    assert first.rows_in["animal_movement"] == len(
        _agri_items(lake_home, "TY03", "animal_movement")
    )
    # Two records arrive later, dated after the watermark.
    last = json.loads(original.splitlines()[-1])
    new = [
        {
            **last,
            "record_id": f"TY03-animal_movement-late-{i}",
            "report_date": "2025-11-0" + str(i + 3),
        }
        for i in range(2)
    ]
    try:
        with jsonl.open("a", encoding="utf-8") as handle:
            for record in new:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        second = _run("agri_ty03", lake_home)
    finally:
        jsonl.write_text(original, encoding="utf-8")
    _check_manifest(second)
    assert second.watermark_before["animal_movement"] == watermark
    assert second.watermark_after["animal_movement"] == "2025-11-04"
    same_day = [
        r
        for r in json.loads("[" + ",".join(original.splitlines()) + "]")
        if r["report_date"] == watermark
    ]
    # Only the watermark day (since is inclusive) and the new records are read again.
    assert second.rows_in["animal_movement"] == len(same_day) + 2
    assert second.rows_in["animal_movement"] < first.rows_in["animal_movement"]
    landed = _landed(lake_home, "agri_ty03", "animal_movement")
    second_rows = [r for r in landed if r["_run_id"] == second.run_id]
    assert len(second_rows) == second.rows_landed["animal_movement"]
    assert all(str(r["report_date"]) >= watermark for r in second_rows)
    assert {r["record_id"] for r in second_rows} >= {r["record_id"] for r in new}
    # Nothing new for the slaughterhouse table: only its last day again.
    assert second.rows_in["slaughterhouse"] <= first.rows_in["slaughterhouse"]
