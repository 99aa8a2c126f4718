"""Public services sector: the one-stop-shop database and the QĐ 766 feed, read back independently.

The ground truth is recomputed here from the written tables with pandas (not with the
generator's ``kpi`` module), so a mistake in either shows up as a mismatch.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata
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
from simulator.frame import AdminFrame
from simulator.public_services import SECTOR
from simulator.public_services.dossiers import PER_YEAR
from simulator.public_services.portal766 import make_server
from simulator.records import DTI_READINGS, DefectLog, GroundTruth

START, END = date(2025, 6, 1), date(2025, 7, 31)
CATALOGUE_KPIS = ["766-1.1", "766-1.2", "766-1.3", "766-3.1", "766-3.2", "766-3.5", "766-4.5a"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One generation shared by the read-back tests (scale 0.003, June–July 2025)."""
    folder = tmp_path_factory.mktemp("ps")
    ctx = SimContext(
        out=folder,
        seed=7,
        scale=0.003,
        start=START,
        end=END,
        defect_rate=0.1,
        frame=AdminFrame(7),
        defects=DefectLog(folder / "defects.parquet"),
        truth=GroundTruth(),
    )
    counts = SECTOR.generate(ctx)
    ctx.defects.close()
    return {"ctx": ctx, "counts": counts, "db": ctx.out / "public_services" / "one_stop.sqlite"}


def read(db: Path, table: str) -> pd.DataFrame:
    with sqlite3.connect(db) as conn:
        return pd.read_sql_query(f"SELECT * FROM {table}", conn)


def parse(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, format="%Y%m%d%H%M%S")


def working_days(start: date, stop: date) -> int:
    return sum(1 for i in range(1, (stop - start).days + 1) if (start + timedelta(i)).weekday() < 5)


def truth_frame(ctx: SimContext) -> pd.DataFrame:
    rows = pd.DataFrame(ctx.truth.rows())
    return rows.set_index(["kpi_id", "period", "admin_level", "admin_code"])[
        ["numerator", "denominator"]
    ].sort_index()


def recompute(ctx: SimContext, db: Path) -> pd.DataFrame:
    """The 766 indicators from the tables alone, at the three admin levels."""
    hs = read(db, "HoSo").sort_values("id").drop_duplicates("MaHoSo")
    fees = read(db, "DanhSachLePhi")
    att = read(db, "TaiLieuNop")
    sup = read(db, "YeuCauBoSung")
    res = read(db, "KetQuaXuLy")
    pa = read(db, "PhanAnhKienNghi")
    cat = read(db, "DanhMucTTHC").set_index("MaTTHC")
    log = read(db, "NhatKyXuLy")
    sync_rows = log[log.NoiDungXuLy.str.startswith("Đồng bộ hồ sơ lên Cổng")]
    synced_on = (
        sync_rows.assign(day=parse(sync_rows.ThoiDiemXuLy).dt.date)
        .groupby("MaHoSo")
        .day.min()
        .to_dict()
    )
    synced = set(synced_on)
    old = {c.code: c for c in ctx.frame.old_communes}

    hs = hs[hs.NgayTiepNhan.notna() & ~hs.TrangThaiHoSo.isin([1, 3])].copy()
    hs["recv"] = parse(hs.NgayTiepNhan).dt.date
    hs["endp"] = parse(hs.NgayKetThucXuLy).dt.date
    bad = set(fees.loc[fees.Gia < 0, "MaHoSo"])
    bad |= set(hs.loc[hs.endp.notna() & (hs.endp < hs.recv), "MaHoSo"])
    bad |= set(hs.loc[hs.recv > ctx.end, "MaHoSo"])
    hs = hs[~hs.MaHoSo.isin(bad)]

    supp: dict[str, list[tuple[date, date | None]]] = {}
    for r in sup.itertuples():
        answered = None if pd.isna(r.NgayBoSung) else parse(pd.Series([r.NgayBoSung]))[0].date()
        supp.setdefault(r.MaHoSo, []).append((parse(pd.Series([r.NgayYeuCau]))[0].date(), answered))
    fee_by = fees.groupby("MaHoSo").Gia.apply(list).to_dict()
    att_digit = att.groupby("MaHoSo").DuocSoHoa.min().to_dict()
    att_reuse = att.groupby("MaHoSo").DuocTaiSuDung.max().to_dict()
    att_store = att.groupby("MaHoSo").DuocLayTuKhoDMQG.max().to_dict()
    electronic = set(res.loc[res.LaBanDienTu == 1, "MaHoSo"])
    complained = set(pa.MaHoSo.dropna())

    cells: dict[tuple[str, str, str], list[int]] = {}

    def add(kpi: str, day: date, commune: str, num: int, den: int = 1) -> None:
        cell = cells.setdefault((kpi, f"{day:%Y-%m}", commune), [0, 0])
        cell[0] += num
        cell[1] += den

    def old_code(code: str, day: date) -> str:
        """Dossiers after July carry a new code; find an old commune that maps to it."""
        return code if code in old else next(c for c in sorted(old) if old[c].new_code == code)

    month_ends = [date(2025, 6, 30), date(2025, 7, 31)]
    for r in hs.itertuples():
        commune = r.MaXa if r.MaXa in old else "new:" + r.MaXa
        recv, due = r.recv, parse(pd.Series([r.NgayHenTra]))[0].date()
        finished = r.TrangThaiHoSo in (7, 9, 10)
        end = r.endp if finished else (recv.replace(day=28) + timedelta(days=4)).replace(day=1)
        if not finished:
            end -= timedelta(days=1)
        ss = supp.get(r.MaHoSo, [])
        pause = sum(max(0, (min(b or end, end) - a).days) for a, b in ss)
        ok = len(ss) <= 1 and end <= due + timedelta(days=pause)
        add("766-2.1", recv, commune, int(ok))
        add("766-1.4", recv, commune, int(r.MaHoSo in synced))
        completed = r.TrangThaiHoSo in (9, 10)
        if completed:
            add("766-2.2", recv, commune, max(0, (r.endp - recv).days))
            add("766-2.2n", recv, commune, max(0, (r.endp - recv).days - pause))
        add("766-3.3r", recv, commune, int(r.KenhThucHien == 2))
        if cat.loc[r.MaTTHC, "LePhi"] > 0 and any(g != 0 for g in fee_by.get(r.MaHoSo, [])):
            add("766-3.6", recv, commune, int(r.DuocThanhToanTrucTuyen in (1, 2)))
        dig = bool(att_digit.get(r.MaHoSo, 0))
        if cat.loc[r.MaTTHC, "CoKetQua"] == 1:
            # A result procedure's dossier is digitised only with its electronic result, so
            # not while it is unfinished (766-4.2); 766-4.1 counts completed ones.
            dig = dig and r.MaHoSo in electronic
            if completed:
                add("766-4.1", recv, commune, int(r.MaHoSo in electronic))
        add("766-4.2", recv, commune, int(dig))
        if completed:
            add("766-4.2f", recv, commune, int(dig))
        add("766-4.3", recv, commune, int(att_reuse.get(r.MaHoSo, 0)))
        add("766-4.4", recv, commune, int(att_store.get(r.MaHoSo, 0)))
        if r.LoaiDoiTuong == 1:
            add("766-4.5b", recv, commune, int(r.TaiKhoanDuocXacThucVoiVNeID))
        add("766-5.4", recv, commune, 1 - int(not ok) - int(r.MaHoSo in complained))
        # What the national portal holds: synced dossiers, in the month they reached it.
        if r.MaHoSo in synced_on:
            add("portal:received", synced_on[r.MaHoSo], commune, 1)
            add("portal:on_time", synced_on[r.MaHoSo], commune, int(ok))
            add("portal:online", synced_on[r.MaHoSo], commune, int(r.KenhThucHien == 2))
        for cut in month_ends:
            if recv <= cut and not (finished and r.endp <= cut):
                add("OPS-OVERDUE-DOSSIERS", cut, commune, int(due < cut))
    limits = {1: 15, 2: 2, 3: 5}
    for r in pa.itertuples():
        got = parse(pd.Series([r.NgayTiepNhan]))[0].date()
        commune = r.MaXa if r.MaXa in old else "new:" + r.MaXa
        done = None if pd.isna(r.NgayXuLy) else parse(pd.Series([r.NgayXuLy]))[0].date()
        ok = done is not None and working_days(got, done) <= limits[r.HinhThucXuLy]
        add("766-5.2", got, commune, int(ok))
        add("766-5.3", got, commune, 1 - int(r.HaiLong == 0) - int(not ok) - int(r.LapLai == 1))

    out: dict[tuple[str, str, str, str], list[int]] = {}
    for (kpi, period, commune), (num, den) in cells.items():
        if commune.startswith("new:"):
            keys = [(kpi, period, "commune", commune[4:])]
        else:
            keys = [(kpi, period, "commune", old[commune].new_code)]
            if period < "2025-07":
                keys.append((kpi, period, "district", old[commune].district_code))
        keys.append((kpi, period, "province", "82"))
        for key in keys:
            cell = out.setdefault(key, [0, 0])
            cell[0] += num
            cell[1] += den
    # 766-3.3 = online share × sync rate of the same cell (numerator n₁ × n₂ / d₂).
    products: dict[tuple[str, str, str, str], list[float]] = {}
    for (kpi, period, level, code), (num, den) in out.items():
        sync_cell = out.get(("766-1.4", period, level, code))
        if kpi == "766-3.3r" and sync_cell and sync_cell[1]:
            products[("766-3.3", period, level, code)] = [num * sync_cell[0] / sync_cell[1], den]
    cells_out: dict[tuple[str, str, str, str], list[float]] = {
        key: [float(num), float(den)] for key, (num, den) in out.items()
    } | products
    frame = pd.DataFrame(
        [(*k, v[0], v[1]) for k, v in cells_out.items()],
        columns=["kpi_id", "period", "admin_level", "admin_code", "numerator", "denominator"],
    )
    return frame.set_index(["kpi_id", "period", "admin_level", "admin_code"]).sort_index()


def test_counts_written_equal_rows_read(generated: dict[str, Any]) -> None:
    counts = generated["counts"]
    with sqlite3.connect(generated["db"]) as conn:
        for table in ("DanhMucTTHC", "HoSo", "NhatKyXuLy", "TaiLieuNop", "DanhSachLePhi"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == counts[table]
        assert counts["HoSo"] > 300
        assert (
            counts["PhanAnhKienNghi"]
            == conn.execute("SELECT COUNT(*) FROM PhanAnhKienNghi").fetchone()[0]
        )


def test_ground_truth_recomputed_from_tables(generated: dict[str, Any]) -> None:
    ctx = generated["ctx"]
    expected = recompute(ctx, generated["db"])
    actual = truth_frame(ctx)
    expected = expected[~expected.index.get_level_values(0).str.startswith("portal:")]
    # The catalogue-level and per-procedure ones are checked in test_public_services_catalogue,
    # the DTI's copies of 766 rows in test_dti_indicators_are_their_766_readings.
    actual = actual[~actual.index.get_level_values(0).isin([*CATALOGUE_KPIS, *DTI_READINGS])]
    assert set(actual.index.get_level_values(0)) >= {
        "766-1.4",
        "766-2.1", "766-2.2", "766-2.2n", "766-3.3", "766-3.3r", "766-3.6", "766-4.1", "766-4.2",
        "766-4.2f", "766-4.3", "766-4.4", "766-4.5b", "766-5.2", "766-5.3",
        "766-5.4", "OPS-OVERDUE-DOSSIERS",
    }  # fmt: skip
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def test_dti_indicators_are_their_766_readings(generated: dict[str, Any]) -> None:
    truth = truth_frame(generated["ctx"])
    for code, reading in DTI_READINGS.items():
        read = truth.loc[reading]
        read = read[read.index.get_level_values("admin_level") == "province"]
        assert not read.empty, f"no province rows of {reading}"
        pd.testing.assert_frame_equal(truth.loc[code], read)


def test_admin_codes_follow_the_reorganisation(generated: dict[str, Any]) -> None:
    ctx = generated["ctx"]
    defects = pq.read_table(ctx.out / "defects.parquet").to_pandas()
    future = set(defects.loc[defects.kind == "future_date", "record_key"])
    hs = read(generated["db"], "HoSo")
    hs = hs[hs.NgayTiepNhan.notna() & ~hs.MaHoSo.isin(future)]
    outdated = set(defects.loc[defects.kind == "outdated_admin_code", "record_key"])
    old = {c.code for c in ctx.frame.old_communes}
    new = {c.code for c in ctx.frame.new_communes}
    before = hs[hs.NgayTiepNhan < "20250701"]
    after = hs[hs.NgayTiepNhan >= "20250701"]
    assert before.MaXa.isin(old).all() and before.MaTinh.isin(["87", "82"]).all()
    assert before.MaHuyen.notna().all()
    current = after[~after.MaHoSo.isin(outdated)]
    assert current.MaXa.isin(new).all() and (current.MaTinh == "82").all()
    assert current.MaHuyen.isna().all()
    assert outdated, "defect rate 0.1 should give some outdated codes"
    assert after[after.MaHoSo.isin(outdated)].MaXa.isin(old).all()


def test_defects_are_in_the_data(generated: dict[str, Any]) -> None:
    ctx, db = generated["ctx"], generated["db"]
    defects = pq.read_table(ctx.out / "defects.parquet").to_pandas()
    keys = {k: set(g.record_key) for k, g in defects.groupby("kind")}
    assert set(keys) >= {"duplicate_record", "nfd_text", "future_date", "late_arriving"}
    hs = read(db, "HoSo")
    fees = read(db, "DanhSachLePhi")
    assert set(fees.loc[fees.Gia < 0, "MaHoSo"]) == keys.get("negative_amount", set())
    dup = hs.MaHoSo.value_counts()
    assert set(dup[dup > 1].index) == keys["duplicate_record"]
    nfd = hs[hs.ChuHoSo.map(lambda s: unicodedata.normalize("NFC", s) != s)]
    assert set(nfd.MaHoSo) == keys["nfd_text"]
    assert (
        set(hs.loc[hs.NgayTiepNhan > END.strftime("%Y%m%d") + "99", "MaHoSo"])
        == (keys["future_date"])
    )
    ended = hs[
        hs.NgayKetThucXuLy.notna() & hs.NgayTiepNhan.notna() & ~hs.MaHoSo.isin(keys["future_date"])
    ]
    assert set(ended.loc[ended.NgayKetThucXuLy < ended.NgayTiepNhan, "MaHoSo"]) == keys.get(
        "impossible_date", set()
    )
    log = read(db, "NhatKyXuLy").groupby("MaHoSo").ThoiDiemXuLy.max()
    late = hs[hs.MaHoSo.isin(keys["late_arriving"])]
    for r in late.itertuples():
        last = datetime.strptime(log[r.MaHoSo], "%Y%m%d%H%M%S")
        assert datetime.strptime(r.updated_at, "%Y-%m-%d %H:%M:%S") > last


def test_status_life_cycle_and_calibration(generated: dict[str, Any]) -> None:
    ctx, db = generated["ctx"], generated["db"]
    hs = read(db, "HoSo").drop_duplicates("MaHoSo")
    assert set(hs.TrangThaiHoSo) <= set(range(1, 11))
    citizens = hs[hs.LoaiDoiTuong == 1]
    assert citizens.SoGiayToChuHoSo.str.fullmatch(r"08[27][0-3]\d{8}").all()
    assert hs.SoDienThoai.str.fullmatch(r"0\d{9}").all()
    done = hs[hs.TrangThaiHoSo.isin([9, 10])]
    assert done.NgayKetThucXuLy.notna().all()
    assert hs.loc[hs.TrangThaiHoSo == 10, "NgayTra"].notna().all()
    assert hs.loc[hs.TrangThaiHoSo.isin([2, 4, 5]), "NgayKetThucXuLy"].isna().all()
    # Volume: ~1M dossiers per province-year at scale 1 (±15% over two months at tiny scale).
    expected = PER_YEAR * ctx.scale * ((END - START).days + 1) / 365.25
    assert abs(len(hs) - expected) / expected < 0.15
    truth = truth_frame(ctx).xs("province", level="admin_level")
    share = truth.groupby(level="kpi_id").sum()
    value = share.numerator / share.denominator
    assert 0.55 <= value["766-3.3r"] <= 0.80  # online share, 2025 (assumption: 45% → 70%)
    assert 0.95 <= value["766-1.4"] < 1  # ~1.5% never reach the national portal
    assert 0.88 <= value["766-2.1"] <= 0.99  # on-time processing
    assert 0.60 <= value["766-4.2"] <= 0.90  # digitised dossiers


def test_same_seed_same_bytes(make_ctx: Callable[..., SimContext], tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        ctx = make_ctx(scale=0.001, out=tmp_path / name)
        SECTOR.generate(ctx)
        ctx.defects.close()
        folder = ctx.out / "public_services"
        files = sorted(p for p in folder.iterdir() if p.is_file())
        digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        digest["truth"] = hashlib.sha256(json.dumps(ctx.truth.rows()).encode()).hexdigest()
        digest["defects"] = hashlib.sha256((ctx.out / "defects.parquet").read_bytes()).hexdigest()
        digests.append(digest)
    assert digests[0] == digests[1]
    assert "one_stop.sqlite" in digests[0]


@pytest.fixture(scope="module")
def portal(generated: dict[str, Any]) -> Iterator[tuple[str, str]]:
    server = make_server(generated["ctx"].out, 0, rate_limit=5, error_rate=0.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = (generated["ctx"].out / "public_services" / "portal766_token.txt").read_text().strip()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/reporting", token
    server.shutdown()
    server.server_close()


def post(url: str, token: str, body: dict[str, Any]) -> httpx.Response:
    for _ in range(20):  # the rate limit is part of the feed: wait as Retry-After says
        answer = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 429:
            return answer
        time.sleep(float(answer.headers["Retry-After"]))
    raise AssertionError("still rate limited")


def test_portal_reconciles_with_truth(generated: dict[str, Any], portal: tuple[str, str]) -> None:
    """The feed holds what the national portal received: synced dossiers, filed in the month
    they reached it (recomputed here from the sync rows), beside the province's own count by
    reception month; its mean processing time is the net reading (766-2.2n)."""
    base, token = portal
    truth = truth_frame(generated["ctx"])
    held = recompute(generated["ctx"], generated["db"])
    body = {"timeType": "month", "year": 2025, "month": 6, "rootDepartmentId": "82"}
    progress = post(f"{base}/dvc-progress-tree", token, body).json()["data"]
    on_time = truth.loc[("766-2.1", "2025-06", "province", "82")]
    june = ("2025-06", "province", "82")
    assert progress["totalReportedReceived"] == on_time.denominator
    assert progress["totalReceived"] == held.loc[("portal:received", *june)].numerator
    assert progress["totalReceived"] < progress["totalReportedReceived"]  # never or late synced
    assert progress["totalSynced"] == progress["totalReceived"]
    assert progress["totalOnTime"] == held.loc[("portal:on_time", *june)].numerator
    assert progress["totalOverdue"] == progress["totalReceived"] - progress["totalOnTime"]
    assert sum(c["totalReceived"] for c in progress["children"]) <= progress["totalReceived"]
    online = post(f"{base}/evaluation/provide-online-tree", token, body).json()["data"]
    assert online["channelOnlineSum"] == held.loc[("portal:online", *june)].numerator
    assert (
        online["channelOnlineSum"] + online["channelDirectSum"] + online["channelPostalSum"]
        == online["totalReceived"]
    )
    quarter = {"timeType": "quarter", "year": 2025, "quarter": 3, "rootDepartmentId": "82"}
    q3 = post(f"{base}/dvc-progress-tree", token, {**quarter, "page": 2, "size": 10}).json()
    assert (
        q3["data"]["totalReportedReceived"]
        == truth.loc[("766-2.1", "2025-07", "province", "82")].denominator
    )
    assert len(q3["data"]["children"]) == 10 and q3["data"]["totalChildren"] == 102
    cat = httpx.get(
        f"{base}/formalities?page=1&size=5", headers={"Authorization": f"Bearer {token}"}
    )
    assert cat.status_code == 200 and len(cat.json()["data"]["content"]) == 5


def test_portal_auth_rate_limit_and_bad_requests(portal: tuple[str, str]) -> None:
    base, token = portal
    body = {"timeType": "year", "year": 2025, "rootDepartmentId": "82"}
    assert httpx.post(f"{base}/dvc-progress-tree", json=body).status_code == 401
    bad = post(f"{base}/dvc-progress-tree", token, {"timeType": "week", "year": 2025})
    assert bad.status_code == 400
    codes = [
        httpx.post(
            f"{base}/dossier-digitized", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        for _ in range(12)
    ]
    limited = [c for c in codes if c.status_code == 429]
    assert limited and limited[0].headers["Retry-After"] == "1"


def test_portal_errors_are_a_seeded_sequence(generated: dict[str, Any]) -> None:
    token = (generated["ctx"].out / "public_services" / "portal766_token.txt").read_text().strip()
    runs = []
    for _ in range(2):
        server = make_server(generated["ctx"].out, 0, rate_limit=1000, error_rate=0.3, seed=5)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/reporting/formalities"
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            runs.append([client.get(url).status_code for _ in range(30)])
        server.shutdown()
        server.server_close()
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_service_runs_as_a_module(generated: dict[str, Any]) -> None:
    (service,) = SECTOR.services(generated["ctx"].out, 18700)
    assert service.port == 18766 and "simulator.public_services.portal766" in service.argv
    with socket.socket() as sock:  # a free port, so the test never clashes with a running demo
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [*service.argv[:-1], str(port)]
    proc = subprocess.Popen([sys.executable, *argv[1:]])
    try:
        token = (generated["ctx"].out / "public_services" / "portal766_token.txt").read_text()
        for _ in range(50):
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/reporting/formalities",
                    headers={"Authorization": f"Bearer {token.strip()}"},
                )
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer.json()["data"]["total"] == generated["counts"]["DanhMucTTHC"]
    finally:
        proc.terminate()
        proc.wait(5)


def test_mariadb_holds_the_same_rows(make_ctx: Callable[..., SimContext], tmp_path: Path) -> None:
    ctx = make_ctx(scale=0.001, servers=True, out=tmp_path / "db")
    if ctx.mysql_url is None:
        pytest.skip("MariaDB not reachable")
    counts = SECTOR.generate(ctx)
    lite = make_ctx(scale=0.001, out=tmp_path / "lite")
    SECTOR.generate(lite)
    conn = pymysql.connect(host="127.0.0.1", user="root", database=f"{ctx.db_prefix}one_stop")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT MaHoSo, ChuHoSo, NgayTiepNhan, MaXa FROM HoSo ORDER BY id")
            maria = [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()
    with sqlite3.connect(lite.out / "public_services" / "one_stop.sqlite") as lconn:
        sqlite = lconn.execute("SELECT MaHoSo, ChuHoSo, NgayTiepNhan, MaXa FROM HoSo ORDER BY id")
        assert maria == [tuple(r) for r in sqlite.fetchall()]
    assert len(maria) == counts["HoSo"]
    assert pd.DataFrame(ctx.truth.rows()).equals(pd.DataFrame(lite.truth.rows()))
