"""Public services: the catalogue-level and per-procedure QĐ 766 indicators, the IOC sync outage
and the feed's outage flag.

Each indicator (766-1.1, 1.2, 1.3, 1.4, 3.1, 3.2, 3.5, 4.5a) is recomputed with SQL over the
one-stop tables (SQLite, and MariaDB when it answers) at scale 0.01, independently of the
generator's ``kpi`` module, and compared with ``ground_truth.parquet``: counts exactly, values to
1e-9.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pymysql  # type: ignore[import-untyped]
import pytest

from simulator.context import SimContext
from simulator.public_services import SECTOR
from simulator.public_services.dossiers import outage_window
from simulator.public_services.portal766 import DOWN_FLAG, make_server

SEED = 7
# Seed 7's 2025 outage of the sync to the IOC is 30 July – 3 August; the window covers it, the
# July reorganisation and a month whose dossiers are still in progress at the end.
START, END = date(2025, 6, 1), date(2025, 8, 12)
OUTAGE = (date(2025, 7, 30), date(2025, 8, 3))
END_STAMP = f"{END:%Y%m%d}235959"
MONTHS = ["2025-06", "2025-07", "2025-08"]
CUTS = {"2025-06": date(2025, 6, 30), "2025-07": date(2025, 7, 31), "2025-08": END}
SYNC_TEXT = "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia"

# Dossiers the warehouse can count: the first copy of each MaHoSo, received (status ≠ 1, 3),
# not quarantined (negative fee, processing end before reception, reception after the end).
COUNTED = f"""
WITH firsts AS (SELECT MIN(id) AS id FROM HoSo GROUP BY MaHoSo),
counted AS (
  SELECT h.* FROM HoSo h JOIN firsts f ON h.id = f.id
  WHERE h.NgayTiepNhan IS NOT NULL AND h.TrangThaiHoSo NOT IN (1, 3)
    AND h.NgayTiepNhan <= '{END_STAMP}'
    AND (h.NgayKetThucXuLy IS NULL
         OR SUBSTR(h.NgayKetThucXuLy, 1, 8) >= SUBSTR(h.NgayTiepNhan, 1, 8))
    AND h.MaHoSo NOT IN (SELECT MaHoSo FROM DanhSachLePhi WHERE Gia < 0)
),
synced AS (SELECT DISTINCT MaHoSo FROM NhatKyXuLy WHERE NoiDungXuLy = '{SYNC_TEXT}')
"""


def working_days(start: date, stop: date) -> int:
    return sum(1 for i in range(1, (stop - start).days + 1) if (start + timedelta(i)).weekday() < 5)


def plus_working_days(day: date, n: int) -> date:
    while n:
        day += timedelta(1)
        n -= day.weekday() < 5
    return day


def ymd(text: str) -> date:
    return datetime.strptime(text[:8], "%Y%m%d").date()


def period(stamp: str) -> str:
    return f"{stamp[:4]}-{stamp[4:6]}"


Query = Callable[[str], list[tuple[Any, ...]]]


def recompute(query: Query) -> dict[tuple[str, str], tuple[int, int]]:
    """(kpi, period) → (numerator, denominator) at province level, from SQL over the tables."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    # 766-1.4: counted dossiers synced to the national portal / counted dossiers.
    for ym, num, den in query(
        COUNTED + "SELECT SUBSTR(c.NgayTiepNhan, 1, 6) AS ym,"
        " SUM(CASE WHEN s.MaHoSo IS NULL THEN 0 ELSE 1 END), COUNT(*)"
        " FROM counted c LEFT JOIN synced s ON s.MaHoSo = c.MaHoSo GROUP BY ym"
    ):
        out[("766-1.4", period(ym))] = (int(num), int(den))
    # 3.1 and the per-procedure denominators: the catalogue.
    ((online, total, fee, citizen),) = query(
        "SELECT SUM(CASE WHEN MucDo >= 3 THEN 1 ELSE 0 END), COUNT(*),"
        " SUM(CASE WHEN LePhi > 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN DoiTuongThucHien = 1 THEN 1 ELSE 0 END) FROM DanhMucTTHC"
    )
    per_procedure = {
        "766-3.2": (
            "c.KenhThucHien = 2 AND d.MucDo >= 3",
            int(online),
        ),
        "766-3.5": (
            "d.LePhi > 0 AND c.DuocThanhToanTrucTuyen IN (1, 2)"
            " AND c.MaHoSo IN (SELECT MaHoSo FROM synced)"
            " AND c.MaHoSo IN (SELECT MaHoSo FROM DanhSachLePhi WHERE Gia <> 0)",
            int(fee),
        ),
        "766-4.5a": (
            "c.TaiKhoanDuocXacThucVoiVNeID = 1 AND d.DoiTuongThucHien = 1",
            int(citizen),
        ),
    }
    for ym in MONTHS:
        out[("766-3.1", ym)] = (int(online), int(total))
        for kpi, (_, den) in per_procedure.items():
            out[(kpi, ym)] = (0, den)
    for kpi, (where, den) in per_procedure.items():
        for ym, num in query(
            COUNTED + "SELECT SUBSTR(c.NgayTiepNhan, 1, 6) AS ym, COUNT(DISTINCT c.MaTTHC)"
            f" FROM counted c JOIN DanhMucTTHC d ON d.MaTTHC = c.MaTTHC WHERE {where}"
            " GROUP BY ym"
        ):
            out[(kpi, period(ym))] = (int(num), den)
    # 1.1 and 1.2 from the publication decisions and what was made public.
    decisions = query(
        "SELECT q.NgayQuyetDinh, q.NgayHieuLucVanBan, k.NgayCongKhai FROM QuyetDinhCongBo q"
        " LEFT JOIN CongKhaiTTHC k ON k.MaCongBo = q.MaCongBo"
    )
    for decided_s, effective_s, public_s in decisions:
        decided = ymd(decided_s)
        ym = f"{decided:%Y-%m}"
        if ym in CUTS:
            num, den = out.get(("766-1.1", ym), (0, 0))
            out[("766-1.1", ym)] = (num + (working_days(decided, ymd(effective_s)) >= 5), den + 1)
        due = plus_working_days(decided, 5)
        ym = f"{due:%Y-%m}"
        if ym in CUTS and due <= END:
            ok = public_s is not None and ymd(public_s) <= due
            num, den = out.get(("766-1.2", ym), (0, 0))
            out[("766-1.2", ym)] = (num + ok, den + 1)
    # 1.3: each procedure's latest publication made public by the cut, complete or not.
    flags = " AND ".join(
        f"k.{c} = 1"
        for c in (
            "CoTenThuTuc",
            "CoTrinhTu",
            "CoCachThuc",
            "CoThanhPhanHoSo",
            "CoThoiHan",
            "CoDoiTuong",
            "CoCoQuan",
        )
    )
    for ym, cut in CUTS.items():
        ((num, den),) = query(
            f"SELECT SUM(CASE WHEN {flags} THEN 1 ELSE 0 END), COUNT(*) FROM CongKhaiTTHC k"
            " JOIN QuyetDinhCongBo q ON q.MaCongBo = k.MaCongBo"
            f" WHERE k.NgayCongKhai <= '{cut:%Y%m%d}'"
            " AND q.NgayQuyetDinh = (SELECT MAX(q2.NgayQuyetDinh) FROM QuyetDinhCongBo q2"
            " JOIN CongKhaiTTHC k2 ON k2.MaCongBo = q2.MaCongBo"
            f" WHERE q2.MaTTHC = k.MaTTHC AND k2.NgayCongKhai <= '{cut:%Y%m%d}')"
        )
        out[("766-1.3", ym)] = (int(num), int(den))
    return out


NEW_KPIS = ["766-1.1", "766-1.2", "766-1.3", "766-1.4", "766-3.1", "766-3.2", "766-3.5", "766-4.5a"]


def province_truth(path: Path) -> pd.DataFrame:
    truth = pq.read_table(path).to_pandas()
    truth = truth[truth.kpi_id.isin(NEW_KPIS) & (truth.admin_level == "province")]
    return truth.set_index(["kpi_id", "period"]).sort_index()


def check(truth: pd.DataFrame, expected: dict[tuple[str, str], tuple[int, int]]) -> None:
    assert set(truth.index) == set(expected)
    for key, (num, den) in expected.items():
        row = truth.loc[key]
        assert (row.numerator, row.denominator) == (num, den), key
        assert row.value == pytest.approx(num / den, abs=1e-9), key


def generate(ctx: SimContext) -> dict[str, int]:
    counts = SECTOR.generate(ctx)
    ctx.defects.close()
    ctx.truth.write(ctx.out / "ground_truth.parquet")
    return counts


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from simulator.frame import AdminFrame
    from simulator.records import DefectLog, GroundTruth

    folder = tmp_path_factory.mktemp("ps766")
    ctx = SimContext(
        out=folder,
        seed=SEED,
        scale=0.01,
        start=START,
        end=END,
        defect_rate=0.05,
        frame=AdminFrame(SEED),
        defects=DefectLog(folder / "defects.parquet"),
        truth=GroundTruth(),
    )
    counts = generate(ctx)
    return {"ctx": ctx, "counts": counts, "db": folder / "public_services" / "one_stop.sqlite"}


def sqlite_query(db: Path) -> Query:
    def query(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()

    return query


def test_new_indicators_recomputed_with_sql(run: dict[str, Any]) -> None:
    expected = recompute(sqlite_query(run["db"]))
    truth = province_truth(run["ctx"].out / "ground_truth.parquet")
    check(truth, expected)
    # Real values, not placeholders: publications happen, most are on time, some are not.
    sums = truth.groupby(level="kpi_id")[["numerator", "denominator"]].sum()
    assert sums.loc["766-1.4", "denominator"] > 1500
    assert 0.95 < sums.loc["766-1.4", "numerator"] / sums.loc["766-1.4", "denominator"] < 1
    assert sums.loc["766-1.1", "denominator"] >= 3 and sums.loc["766-1.3", "denominator"] >= 25
    assert 0 < sums.loc["766-3.5", "numerator"] < sums.loc["766-3.5", "denominator"]
    assert 0 < sums.loc["766-4.5a", "numerator"] <= sums.loc["766-4.5a", "denominator"]


def test_new_indicators_edge_cases(run: dict[str, Any]) -> None:
    """Dossiers waiting for a supplement, unfinished at the period end, zero-fee and unsynced
    dossiers: present in the data and counted as the formulas say."""
    query = sqlite_query(run["db"])
    statuses: dict[int, int] = dict(
        query(COUNTED + "SELECT TrangThaiHoSo, COUNT(*) FROM counted GROUP BY 1")
    )
    # Unfinished (2, 4) and paused for a supplement (5) dossiers count as received for 1.4.
    assert statuses.get(4, 0) > 0 and statuses.get(5, 0) > 0
    truth = province_truth(run["ctx"].out / "ground_truth.parquet")
    assert truth.loc[("766-1.4", "2025-08")].denominator == sum(
        n
        for (n,) in query(
            COUNTED + "SELECT COUNT(*) FROM counted WHERE NgayTiepNhan LIKE '202508%'"
        )
    )
    # A dossier whose every fee row is zero (exempt) is never paid online: it cannot mark 3.5.
    zero = query(
        COUNTED + "SELECT c.MaHoSo, c.DuocThanhToanTrucTuyen FROM counted c"
        " WHERE c.MaHoSo IN (SELECT MaHoSo FROM DanhSachLePhi)"
        " AND c.MaHoSo NOT IN (SELECT MaHoSo FROM DanhSachLePhi WHERE Gia <> 0)"
    )
    assert zero and all(paid == 0 for _, paid in zero)
    # Unsynced dossiers exist and stay out of 1.4's numerator.
    ((unsynced,),) = query(
        COUNTED + "SELECT COUNT(*) FROM counted WHERE MaHoSo NOT IN (SELECT MaHoSo FROM synced)"
    )
    sums = truth.groupby(level="kpi_id")[["numerator", "denominator"]].sum()
    assert unsynced == sums.loc["766-1.4", "denominator"] - sums.loc["766-1.4", "numerator"] > 0
    # A refused dossier (status 3) is never synced: it was not received.
    ((refused_synced,),) = query(
        "SELECT COUNT(*) FROM HoSo WHERE TrangThaiHoSo = 3"
        f" AND MaHoSo IN (SELECT MaHoSo FROM NhatKyXuLy WHERE NoiDungXuLy = '{SYNC_TEXT}')"
    )
    assert refused_synced == 0


def test_commune_and_district_levels_of_1_4_add_up(run: dict[str, Any]) -> None:
    truth = pq.read_table(run["ctx"].out / "ground_truth.parquet").to_pandas()
    t = truth[truth.kpi_id == "766-1.4"]
    for ym in MONTHS:
        rows = t[t.period == ym]
        province = rows[rows.admin_level == "province"]
        communes = rows[rows.admin_level == "commune"]
        assert len(province) == 1 and len(communes) > 50
        assert communes.numerator.sum() == province.numerator.iloc[0]
        assert communes.denominator.sum() == province.denominator.iloc[0]
        districts = rows[rows.admin_level == "district"]
        assert districts.empty == (ym >= "2025-07")
        if not districts.empty:
            assert districts.denominator.sum() == province.denominator.iloc[0]
    # Catalogue-level indicators are province-wide only.
    others = truth[truth.kpi_id.isin(set(NEW_KPIS) - {"766-1.4"})]
    assert set(others.admin_level) == {"province"} and set(others.admin_code) == {"82"}


def test_ioc_sync_outage(run: dict[str, Any], make_ctx: Callable[..., SimContext]) -> None:
    assert outage_window(SEED, 2025) == OUTAGE
    ctx = run["ctx"]
    defects = pq.read_table(ctx.out / "defects.parquet").to_pandas()
    down = defects[defects.kind == "source_unavailable"]
    assert list(down.record_key) == [f"ioc-sync:{OUTAGE[0]}..{OUTAGE[1]}"]
    assert f"{OUTAGE[0]} to {OUTAGE[1]}" in down.detail.iloc[0] and down.day.iloc[0] == OUTAGE[0]
    query = sqlite_query(run["db"])
    rows = query(
        "SELECT h.MaHoSo, h.updated_at, MAX(l.ThoiDiemXuLy) FROM HoSo h"
        " JOIN NhatKyXuLy l ON l.MaHoSo = h.MaHoSo GROUP BY h.id, h.MaHoSo, h.updated_at"
    )
    first, last = f"{OUTAGE[0]:%Y-%m-%d}", f"{OUTAGE[1]:%Y-%m-%d} 23:59:59"
    # Nothing reaches the IOC while the sync is down.
    assert not [r for r in rows if first <= r[1] <= last]
    in_window = {k for k, _, ev in rows if f"{OUTAGE[0]:%Y%m%d}" <= ev[:8] <= f"{OUTAGE[1]:%Y%m%d}"}
    late = defects[defects.kind == "late_arriving"]
    outage_late = set(late.loc[late.detail.str.contains("sync to the IOC down"), "record_key"])
    # Every dossier whose last change fell in the window arrives late and is logged as such
    # (once: a dossier already late for another reason keeps its own log line).
    assert outage_late and outage_late <= in_window
    assert in_window <= set(late.record_key)
    catch_up = f"{OUTAGE[1] + timedelta(days=1):%Y-%m-%d}"
    arrived = [up for k, up, _ in rows if k in outage_late]
    assert arrived and all(f"{catch_up} 06:00:00" <= up < f"{catch_up} 10:00:00" for up in arrived)
    # Ending inside the window: the rows are still arriving at the end (its last second).
    inside = make_ctx(scale=0.002, seed=SEED, start=date(2025, 7, 20), end=date(2025, 7, 31))
    SECTOR.generate(inside)
    inside.defects.close()
    with sqlite3.connect(inside.out / "public_services" / "one_stop.sqlite") as conn:
        stamps = [u for (u,) in conn.execute("SELECT updated_at FROM HoSo")]
    assert "2025-07-31 23:59:59" in stamps
    assert not [u for u in stamps if "2025-07-30" <= u < "2025-07-31 23:59:59"]


@pytest.fixture(scope="module")
def portal(run: dict[str, Any]) -> Iterator[tuple[str, str, Path]]:
    server = make_server(run["ctx"].out, 0, rate_limit=1000, error_rate=0.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    out = run["ctx"].out
    token = (out / "public_services" / "portal766_token.txt").read_text().strip()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/reporting", token, out
    server.shutdown()
    server.server_close()


def test_feed_reconciles_new_indicators(run: dict[str, Any], portal: tuple[str, str, Path]) -> None:
    base, token, _ = portal
    truth = province_truth(run["ctx"].out / "ground_truth.parquet")
    full = pq.read_table(run["ctx"].out / "ground_truth.parquet").to_pandas()
    headers = {"Authorization": f"Bearer {token}"}
    for ym in MONTHS:
        body = {"timeType": "month", "year": 2025, "month": int(ym[5:]), "rootDepartmentId": "82"}

        def get(endpoint: str, body: dict[str, Any] = body) -> dict[str, Any]:
            answer = httpx.post(f"{base}/{endpoint}", json=body, headers=headers)
            assert answer.status_code == 200, answer.text
            data: dict[str, Any] = answer.json()["data"]
            return data

        def nd(kpi: str, ym: str = ym) -> tuple[int, int]:
            if (kpi, ym) not in truth.index:
                return (0, 0)
            row = truth.loc[(kpi, ym)]
            return int(row.numerator), int(row.denominator)

        t = get("evaluation/transparency")
        assert (t["totalPublishedOnTime"], t["totalPublished"]) == nd("766-1.1")
        assert (t["totalPublicOnTime"], t["totalPublicDue"]) == nd("766-1.2")
        assert (t["totalCompleteContent"], t["totalPublic"]) == nd("766-1.3")
        online = get("provide-online-tree")
        assert (online["totalOnlineFormalities"], online["totalFormalities"]) == nd("766-3.1")
        assert (online["totalOnlineFormalitiesUsed"], online["totalOnlineFormalities"]) == nd(
            "766-3.2"
        )
        pay = get("formality-online-payment-tree")
        assert (pay["totalFeeFormalitiesPaidOnline"], pay["totalFeeFormalities"]) == nd("766-3.5")
        dig = get("dossier-digitized")
        assert (dig["totalCitizenFormalitiesVNeID"], dig["totalCitizenFormalities"]) == nd(
            "766-4.5a"
        )
        progress = get("dvc-progress-tree", {**body, "size": 500})
        # The province's own count (the reporting system's, by reception month) is 766-1.4's
        # denominator; the portal's synced count files dossiers by the month they reached it
        # (reconciled in marts.kpi_reconciliation).
        assert progress["totalReportedReceived"] == nd("766-1.4")[1]
        communes = full[(full.kpi_id == "766-1.4") & (full.period == ym)]
        communes = communes[communes.admin_level == "commune"].set_index("admin_code")
        for child in progress["children"]:
            if child["id"] in communes.index:
                assert child["totalReportedReceived"] == communes.loc[child["id"], "denominator"]
            else:
                assert child["totalReportedReceived"] == 0


def test_feed_outage_flag(portal: tuple[str, str, Path]) -> None:
    base, token, out = portal
    headers = {"Authorization": f"Bearer {token}"}
    body = {"timeType": "year", "year": 2025, "rootDepartmentId": "82"}
    flag = out / "public_services" / DOWN_FLAG
    flag.touch()
    try:
        for answer in (
            httpx.post(f"{base}/dvc-progress-tree", json=body, headers=headers),
            httpx.get(f"{base}/formalities", headers=headers),
            httpx.post(f"{base}/dvc-progress-tree", json=body),  # even without a token
        ):
            assert answer.status_code == 503
            assert answer.json()["status"] == "error" and answer.headers["Retry-After"]
    finally:
        flag.unlink()
    assert httpx.post(f"{base}/dvc-progress-tree", json=body, headers=headers).status_code == 200


def test_mariadb_sql_recompute(make_ctx: Callable[..., SimContext], tmp_path: Path) -> None:
    ctx = make_ctx(scale=0.01, seed=SEED, start=START, end=END, servers=True, out=tmp_path / "m")
    if ctx.mysql_url is None:
        pytest.skip("MariaDB not reachable")
    ctx.defect_rate = 0.05
    generate(ctx)
    conn = pymysql.connect(host="127.0.0.1", user="root", database=f"{ctx.db_prefix}one_stop")
    try:

        def query(sql: str) -> list[tuple[Any, ...]]:
            with conn.cursor() as cur:
                cur.execute(sql)
                return [tuple(r) for r in cur.fetchall()]

        check(province_truth(ctx.out / "ground_truth.parquet"), recompute(query))
    finally:
        conn.close()
