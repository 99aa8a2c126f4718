"""Agriculture sector: all 28 systems read back by independent readers, truth recomputed."""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import httpx
import pandas as pd
import pytest

from simulator.agriculture import SECTOR
from simulator.agriculture.generate import load_systems
from simulator.agriculture.sinks import database_name

START, END = date(2025, 6, 1), date(2025, 7, 31)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _api_records(port: int, code: str, table: str) -> list[dict]:
    records: list[dict] = []
    page = 1
    while True:
        body = httpx.get(
            f"http://127.0.0.1:{port}/api/{code}/{table}", params={"page": page, "page_size": 7}
        ).json()
        records += body["items"]
        if page >= body["pages"]:
            assert len(records) == body["total"]
            return records
        page += 1


def _read_all(out: Path, port: int) -> dict[str, pd.DataFrame]:
    """Every system's records, read the way a connector would (by kind), keyed code/table."""
    root = out / "agriculture"
    frames: dict[str, pd.DataFrame] = {}
    str_cols = {"province_code": str, "district_code": str, "commune_code": str}
    for system in load_systems():
        for table in system.tables:
            key = f"{system.code}/{table}"
            if system.kind in ("postgres", "mariadb", "sqlite"):
                with sqlite3.connect(root / f"{system.code}.sqlite") as conn:
                    frames[key] = pd.read_sql_query(f"SELECT * FROM {table}", conn)
            elif system.kind == "xlsx":
                parts = []
                for path in sorted((root / "reports" / table).glob("*.xlsx")):
                    raw = pd.read_excel(path, header=None, dtype=str)
                    header = raw.index[raw[0] == "record_id"][0]  # shifted headers move down
                    parts.append(pd.read_excel(path, header=header, dtype=str))
                frames[key] = pd.concat(parts, ignore_index=True)
            elif system.kind == "api":
                frames[key] = pd.DataFrame(_api_records(port, system.code, table))
            elif system.kind == "drop_csv":
                files = sorted((root / "drops" / system.code).glob(f"{table}_*.csv"))
                frames[key] = pd.concat(
                    [pd.read_csv(f, dtype=str_cols, keep_default_na=False) for f in files]
                )
            else:
                files = sorted((root / "drops" / system.code).glob(f"{table}_*.json"))
                frames[key] = pd.DataFrame(
                    [r for f in files for r in json.loads(f.read_text())["records"]]
                )
    return frames


@pytest.fixture
def api_server():
    procs = []

    def start(sim_dir: Path) -> int:
        port = _free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                *("-m", "simulator.agriculture.api", "--sim-dir", str(sim_dir)),
                *("--port", str(port)),
            ],
            stdout=subprocess.DEVNULL,
        )
        procs.append(proc)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return port
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("agriculture api did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def test_registry_has_the_28_systems():
    systems = load_systems()
    assert len(systems) == 28 and len({s.code for s in systems}) == 28
    assert sum(s.deployed_by == "central" for s in systems) == 19
    assert {s.kind for s in systems} == {
        *("postgres", "mariadb", "sqlite", "xlsx", "api", "drop_csv", "drop_json")
    }
    (platform,) = [s for s in systems if s.kind == "xlsx"]
    assert len(platform.tables) == 15  # the platform's 15 report templates
    assert all(2 <= len(s.tables) <= 4 for s in systems if s.kind != "xlsx")


def test_everything_written_is_read_back_and_truth_matches(make_ctx, api_server):
    ctx = make_ctx(start=START, end=END, defect_rate=0.05)
    counts = SECTOR.generate(ctx)
    ctx.defects.close()
    frames = _read_all(ctx.out, api_server(ctx.out))
    systems = load_systems()
    by_kind: dict[str, int] = defaultdict(int)
    for system in systems:
        for table in system.tables:
            by_kind[f"rows_{system.kind}"] += len(frames[f"{system.code}/{table}"])
    assert dict(by_kind) == {k: v for k, v in counts.items() if k.startswith("rows_")}
    defects = pd.read_parquet(ctx.out / "defects.parquet")
    assert {"outdated_admin_code", "negative_amount", "duplicate_record", "nfd_text"} <= set(
        defects["kind"]
    )
    truth = pd.DataFrame(ctx.truth.rows())

    # Systems operating: distinct systems with a row dated in the month, out of 28.
    operating: dict[str, set[str]] = defaultdict(set)
    for key, frame in frames.items():
        for month in frame["report_date"].astype(str).str[:7].unique():
            operating[month].add(key.split("/")[0])
    got = truth[truth.kpi_id == "OPS-AGRI-SYSTEMS-OPERATING"]
    assert {r.period: (r.numerator, r.denominator) for r in got.itertuples()} == {
        m: (len(s), 28) for m, s in operating.items()
    }

    # Planted area: TT01 crop_area, one row per record_id, negative areas excluded.
    crop = frames["TT01/crop_area"].drop_duplicates("record_id")
    crop = crop[crop["planted_ha"] >= 0].copy()
    crop["month"] = crop["report_date"].str[:7]
    crop["new"] = [
        ctx.frame.old(c).new_code if d < "2025-07" else c
        for c, d in zip(crop["commune_code"], crop["report_date"], strict=True)
    ]
    expected = crop.groupby(["month", "new"])["planted_ha"].sum()
    got = truth[(truth.kpi_id == "OPS-AGRI-PLANTED-AREA-HA") & (truth.admin_level == "commune")]
    assert len(got) == len(expected) > 0
    for row in got.itertuples():
        assert row.numerator == expected[(row.period, row.admin_code)] and row.denominator == 1
    province = truth[
        (truth.kpi_id == "OPS-AGRI-PLANTED-AREA-HA") & (truth.admin_level == "province")
    ]
    assert (
        province.set_index("period")["numerator"].to_dict()
        == crop.groupby("month")["planted_ha"].sum().to_dict()
    )
    # Legacy systems keep old codes after the change; up-to-date ones send no district.
    after = frames["KL01/forest_cover"]
    legacy = after.loc[after["report_date"] >= "2025-07", "district_code"]
    assert len(legacy) > 0 and (legacy != "").all()
    tt = frames["TT01/crop_area"]
    assert (tt.loc[tt["report_date"] >= "2025-07", "district_code"] == "").all()


def test_same_seed_same_bytes(make_ctx, tmp_path):
    sums = []
    for name in ("a", "b"):
        ctx = make_ctx(start=date(2025, 6, 15), end=date(2025, 7, 5), out=tmp_path / name)
        SECTOR.generate(ctx)
        sums.append(_checksums(ctx.out / "agriculture"))
        time.sleep(1.1)  # a clock-stamped file (zip entry, workbook property) would now differ
    assert sums[0] == sums[1] and any(k.endswith(".xlsx") for k in sums[0])


def test_api_errors_are_clear(make_ctx, api_server):
    ctx = make_ctx(start=date(2025, 7, 1), end=date(2025, 7, 7))
    SECTOR.generate(ctx)
    port = api_server(ctx.out)
    listing = httpx.get(f"http://127.0.0.1:{port}/api").json()
    assert len(listing["systems"]) == 6
    missing = httpx.get(f"http://127.0.0.1:{port}/api/NOPE/x")
    assert missing.status_code == 404 and "unknown system" in missing.json()["error"]
    bad = httpx.get(f"http://127.0.0.1:{port}/api/KDTV01/plant_quarantine?page_size=5000")
    assert bad.status_code == 400


@pytest.mark.integration
def test_database_systems_on_servers(make_ctx):
    ctx = make_ctx(start=date(2025, 6, 15), end=date(2025, 7, 15), servers=True)
    if ctx.pg_url is None or ctx.mysql_url is None:
        pytest.skip("PostgreSQL or MariaDB not reachable")
    counts = SECTOR.generate(ctx)
    import psycopg
    import pymysql  # type: ignore[import-untyped, unused-ignore]

    systems = load_systems()
    pg_rows = my_rows = 0
    for system in systems:
        for table in system.tables:
            if system.kind == "postgres":
                with psycopg.connect(
                    f"{ctx.pg_url}/{database_name(system.code, ctx.db_prefix)}"
                ) as conn:
                    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                    assert row is not None
                    pg_rows += row[0]
            elif system.kind == "mariadb":
                conn = pymysql.connect(
                    host="127.0.0.1",
                    user="root",
                    database=database_name(system.code, ctx.db_prefix),
                )
                with conn.cursor() as cur:
                    cur.execute(f"SELECT count(*) FROM {table}")
                    my_rows += cur.fetchone()[0]
                conn.close()
    assert pg_rows == counts["rows_postgres"] and my_rows == counts["rows_mariadb"]
    assert not list((ctx.out / "agriculture").glob("TT01.sqlite"))
