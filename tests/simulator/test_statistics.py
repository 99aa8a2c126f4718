"""Statistics feed: CSV files read back with pandas match the row counts, defects and truth."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from simulator.context import SimContext
from simulator.statistics import SECTOR

START, END = date(2024, 1, 1), date(2025, 12, 31)


def read_feed(folder: Path) -> pd.DataFrame:
    frames = [
        pd.read_csv(p, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        for p in sorted(folder.glob("*.csv"))
    ]
    return pd.concat(frames, ignore_index=True)


def test_feed_reads_back_and_matches_truth(make_ctx: Callable[..., SimContext]) -> None:
    ctx = make_ctx(scale=0.002, start=START, end=END, defect_rate=0.05)
    written = SECTOR.generate(ctx)
    ctx.defects.close()
    folder = ctx.out / "statistics" / "feed"
    files = sorted(folder.glob("*.csv"))
    assert len(files) == written["files"] == 24
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in files)
    df = read_feed(folder)
    assert len(df) == written["rows"]
    num = df["tu_so"].str.replace(".", "", regex=False).astype("int64")
    den = df["mau_so"].str.replace(".", "", regex=False).astype("int64")
    # The DTI rank (DT-02) and firms per 1,000 people (DT-04) are no percentages: no ty_le.
    has_rate = df["ty_le"] != ""
    assert set(df.loc[~has_rate, "ma_chi_tieu"]) == {"DT-02", "DT-04"}
    rate = df.loc[has_rate, "ty_le"].str.replace(",", ".", regex=False).astype(float)
    assert ((rate - 100 * num[has_rate] / den[has_rate]).abs() <= 0.005 + 1e-9).all()

    defects = pq.read_table(ctx.out / "defects.parquet").to_pandas()
    kinds = defects["kind"].value_counts().to_dict()
    raw = "".join(p.read_text(encoding="utf-8-sig") for p in files)
    assert raw.count('"') == 4 * kinds["number_as_text"]  # two quoted counts per defect row
    nfd = (
        df["ten_don_vi"] != df["ten_don_vi"].map(lambda s: unicodedata.normalize("NFC", s))
    ).sum()
    assert nfd == kinds["nfd_text"]
    # Lateness of the monthly publication: the DTI rank of a year comes in the next June's file.
    monthly = df[df["ma_chi_tieu"] != "DT-02"]
    published = pd.to_datetime(monthly["ngay_cong_bo"], format="%d/%m/%Y")
    period_end = pd.to_datetime(monthly["ky_bao_cao"] + "-01") + pd.offsets.MonthEnd(0)
    late = set(monthly.loc[(published - period_end).dt.days > 30, "ky_bao_cao"])
    logged = {
        r.removeprefix("chi-tieu-kinh-te-so-").removesuffix(".csv")
        for r in defects.loc[defects["kind"] == "late_arriving", "record_key"]
    }
    assert late == logged and late

    before = df["ky_bao_cao"] < "2025-07"
    assert set(df.loc[before, "cap"]) == {"huyen", "tinh"}
    assert set(df.loc[~before, "cap"]) == {"xa", "tinh"}
    assert set(df.loc[~before, "ma_tinh"]) == {"82"}
    assert df.loc[~before & (df["cap"] == "xa"), "ma_xa"].nunique() == 102

    truth: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row, n, d in zip(df.itertuples(), num, den, strict=True):
        if row.ma_chi_tieu == "DT-02":
            # a rank is not summed: old Đồng Tháp's (87) before the merger, denominator 1
            if row.ky_bao_cao >= "2025" or row.ma_tinh == "87":
                truth[(row.ma_chi_tieu, row.ky_bao_cao, "province", "82")] = [n, 1]
            continue
        keys = [("province", "82")]
        if row.cap == "huyen":
            keys.append(("district", row.ma_huyen))
        elif row.cap == "xa":
            keys.append(("commune", row.ma_xa))
        for level, code in keys:
            truth[(row.ma_chi_tieu, row.ky_bao_cao, level, code)][0] += n
            truth[(row.ma_chi_tieu, row.ky_bao_cao, level, code)][1] += d
    expected = {
        (r["kpi_id"], r["period"], r["admin_level"], r["admin_code"]): [
            r["numerator"],
            r["denominator"],
        ]
        for r in ctx.truth.rows()
    }
    assert expected == dict(truth)

    # Calibration against kpis.md §3 / province_facts.md (province level, ±5 points).
    value = {(k[0], k[1]): v[0] / v[1] for k, v in truth.items() if k[2] == "province"}
    assert 0.78 < value[("XH-02", "2024-01")] < 0.83  # 79.5% households on broadband (2023)
    assert 0.83 < value[("XH-02", "2025-12")] < 0.92  # toward the 85% national target
    assert 0.75 < value[("XH-03", "2025-12")] < 0.85  # plan: 80% of people 15+ by 2025
    assert 0.75 < value[("XH-04", "2025-12")] < 0.88  # plan: 80% of adults with VNeID
    assert 0.52 < value[("OPS-SME-ECOM", "2024-06")] < 0.62  # 57% of SMEs (target 55%)
    assert 0.09 < value[("KT-01", "2025-12")] < 0.16  # plan: 15% of GRDP
    assert ("KT-01", "2025-11") not in value  # GRDP is quarterly
    assert 0.08 < value[("KT-02", "2025-12")] < 0.12  # plan: >10% of retail
    # The yearly figures, on the year's December (DT-02 of 2025 comes in June 2026: not here).
    assert 0.8 < value[("DT-01", "2024-12")] < 1.0  # 79.2% in 2023, plan 100% a year
    assert 0.15 < value[("DT-03", "2025-12")] < 0.5  # plan: 50% with a digital signature
    assert 0.4 < value[("DT-04", "2025-12")] < 0.8  # plan: > 0.7 firms per 1,000 people
    assert 1 <= value[("DT-02", "2024-12")] <= 63  # old Đồng Tháp's rank among 63
    assert ("DT-02", "2025-12") not in value


def test_same_seed_same_bytes(make_ctx: Callable[..., SimContext], tmp_path: Path) -> None:
    def digests(ctx: SimContext) -> dict[str, str]:
        SECTOR.generate(ctx)
        folder = ctx.out / "statistics"
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.csv"))
        }

    window = {"start": date(2025, 5, 1), "end": date(2025, 8, 31)}
    a = digests(make_ctx(out=tmp_path / "a", **window))
    b = digests(make_ctx(out=tmp_path / "b", **window))
    c = digests(make_ctx(out=tmp_path / "c", seed=8, **window))
    assert len(a) == 4 and a == b and a != c
