"""Where the one-stop-shop tables live: a MariaDB database, or a SQLite file when none answers.

The DDL is written once in a dialect both accept (VARCHAR/INT/BIGINT); rows are bulk-inserted in
batches (``executemany``; pymysql turns it into multi-row INSERTs) so a province-year never sits
in memory, all in one transaction committed at the end (the database is rebuilt on every run, so
SQLite also skips its journal). The database is dropped and recreated on every run, so the same
seed always gives the same content.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pymysql  # type: ignore[import-untyped]

DATABASE = "one_stop"  # on MariaDB, prefixed by the run's db_prefix

# Table → ordered (column, type). Field names follow source_formats.md §2.1; columns the feed
# does not name (admin codes, updated_at, ids of child rows) are the simulator's own.
TABLES: dict[str, list[tuple[str, str]]] = {
    "DanhMucTTHC": [
        ("MaTTHC", "VARCHAR(16) PRIMARY KEY"),
        ("TenTTHC", "VARCHAR(255)"),
        ("MaLinhVuc", "VARCHAR(16)"),
        ("TenLinhVuc", "VARCHAR(255)"),
        ("CapThucHien", "VARCHAR(8)"),
        ("MucDo", "INT"),
        ("ThoiHanGiaiQuyet", "INT"),
        ("LePhi", "BIGINT"),
        ("DuDieuKienToanTrinh", "INT"),
        ("CoKetQua", "INT"),
        ("CongKhaiDayDu", "INT"),
        ("NgayCongBo", "VARCHAR(8)"),
        ("DoiTuongThucHien", "INT"),  # main applicant: 1 citizen, 2 business
    ],
    # Publication decisions (quyết định công bố TTHC) and what was made public on the national
    # procedure database, one row per procedure and decision (766-1.1 to 1.3).
    "QuyetDinhCongBo": [
        ("MaCongBo", "VARCHAR(32) PRIMARY KEY"),
        ("MaTTHC", "VARCHAR(16)"),
        ("SoQuyetDinh", "VARCHAR(32)"),
        ("NgayQuyetDinh", "VARCHAR(8)"),
        ("NgayHieuLucVanBan", "VARCHAR(8)"),
    ],
    "CongKhaiTTHC": [
        ("MaCongBo", "VARCHAR(32) PRIMARY KEY"),
        ("MaTTHC", "VARCHAR(16)"),
        ("NgayCongKhai", "VARCHAR(8)"),
        ("CoTenThuTuc", "INT"),
        ("CoTrinhTu", "INT"),
        ("CoCachThuc", "INT"),
        ("CoThanhPhanHoSo", "INT"),
        ("CoThoiHan", "INT"),
        ("CoDoiTuong", "INT"),
        ("CoCoQuan", "INT"),
    ],
    "HoSo": [
        ("id", "BIGINT PRIMARY KEY"),
        ("MaHoSo", "VARCHAR(32)"),
        ("MaTTHC", "VARCHAR(16)"),
        ("TenTTHC", "VARCHAR(255)"),
        ("MaLinhVuc", "VARCHAR(16)"),
        ("TenLinhVuc", "VARCHAR(255)"),
        ("KenhThucHien", "INT"),
        ("ChuHoSo", "VARCHAR(255)"),
        ("SoGiayToChuHoSo", "VARCHAR(16)"),
        ("LoaiDoiTuong", "INT"),
        ("SoDienThoai", "VARCHAR(16)"),
        ("TrichYeuHoSo", "VARCHAR(512)"),
        ("NgayNopHoSo", "VARCHAR(14)"),
        ("NgayTiepNhan", "VARCHAR(14)"),
        ("NgayHenTra", "VARCHAR(14)"),
        ("NgayKetThucXuLy", "VARCHAR(14)"),
        ("NgayTra", "VARCHAR(14)"),
        ("NgayTuChoi", "VARCHAR(14)"),
        ("TrangThaiHoSo", "INT"),
        ("DonViXuLy", "VARCHAR(32)"),
        ("NoiNopHoSo", "INT"),
        ("HoSoCoThanhPhanSoHoa", "INT"),
        ("TaiKhoanDuocXacThucVoiVNeID", "INT"),
        ("DuocThanhToanTrucTuyen", "INT"),
        ("MaTinh", "VARCHAR(2)"),
        ("MaHuyen", "VARCHAR(3)"),
        ("MaXa", "VARCHAR(5)"),
        ("updated_at", "VARCHAR(19)"),
    ],
    "NhatKyXuLy": [
        ("MaHoSo", "VARCHAR(32)"),
        ("BuocXuLy", "INT"),
        ("NguoiXuLy", "VARCHAR(255)"),
        ("ChucDanh", "VARCHAR(64)"),
        ("ThoiDiemXuLy", "VARCHAR(14)"),
        ("PhongBanXuLy", "VARCHAR(255)"),
        ("NoiDungXuLy", "VARCHAR(255)"),
        ("TrangThai", "INT"),
        ("NgayBatDau", "VARCHAR(14)"),
        ("NgayKetThucTheoQuyDinh", "VARCHAR(14)"),
    ],
    "TaiLieuNop": [
        ("MaHoSo", "VARCHAR(32)"),
        ("STT", "INT"),
        ("TenTepDinhKem", "VARCHAR(255)"),
        ("DuocSoHoa", "INT"),
        ("DuocTaiSuDung", "INT"),
        ("DuocLayTuKhoDMQG", "INT"),
    ],
    "DanhSachLePhi": [
        ("MaHoSo", "VARCHAR(32)"),
        ("STT", "INT"),
        ("TenPhiLePhi", "VARCHAR(255)"),
        ("Gia", "BIGINT"),
        ("DaThanhToanTrucTuyen", "INT"),
    ],
    "YeuCauBoSung": [
        ("MaHoSo", "VARCHAR(32)"),
        ("LanYeuCau", "INT"),
        ("NgayYeuCau", "VARCHAR(14)"),
        ("NoiDungYeuCau", "VARCHAR(255)"),
        ("NgayBoSung", "VARCHAR(14)"),
    ],
    "KetQuaXuLy": [
        ("MaHoSo", "VARCHAR(32)"),
        ("SoKyHieu", "VARCHAR(64)"),
        ("NgayKy", "VARCHAR(14)"),
        ("LaBanDienTu", "INT"),
        ("DuongDanTep", "VARCHAR(255)"),
    ],
    "PhanAnhKienNghi": [
        ("MaPAKN", "VARCHAR(32) PRIMARY KEY"),
        ("MaHoSo", "VARCHAR(32)"),
        ("NgayTiepNhan", "VARCHAR(14)"),
        ("HinhThucXuLy", "INT"),
        ("NgayXuLy", "VARCHAR(14)"),
        ("HaiLong", "INT"),
        ("LapLai", "INT"),
        ("MaTinh", "VARCHAR(2)"),
        ("MaHuyen", "VARCHAR(3)"),
        ("MaXa", "VARCHAR(5)"),
    ],
}


class Store:
    """Batched inserts into MariaDB (``mysql_url``) or a SQLite file (``sqlite_path``)."""

    BATCH = 20_000

    def __init__(self, mysql_url: str | None, sqlite_path: Path, db_prefix: str = "sim_") -> None:
        database = f"{db_prefix}{DATABASE}"
        self.mysql = mysql_url is not None
        self._pending: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.conn: Any
        self.load_data = False
        if mysql_url is not None:
            url = urlparse(mysql_url)
            self.conn = pymysql.connect(
                host=url.hostname or "127.0.0.1",
                port=url.port or 3306,
                user=url.username or "root",
                password=url.password or "",
                charset="utf8mb4",
                autocommit=False,
                local_infile=True,
            )
            with self.conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {database}")
                cur.execute(f"CREATE DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
                cur.execute(f"USE {database}")
            self.placeholder = "%s"
            # Batches go in with LOAD DATA LOCAL INFILE from a scratch TSV when the server allows
            # it (several times faster than INSERTs), otherwise with multi-row INSERTs.
            self.load_data = True
        else:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            sqlite_path.unlink(missing_ok=True)
            self.conn = sqlite3.connect(sqlite_path)
            # A file rebuilt from scratch each run: no rollback journal, no fsync per commit.
            self.conn.execute("PRAGMA journal_mode=OFF")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.placeholder = "?"
        cur = self.conn.cursor()
        for table, columns in TABLES.items():
            cols = ", ".join(f"{name} {kind}" for name, kind in columns)
            cur.execute(f"CREATE TABLE {table} ({cols})")
        self.conn.commit()

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self._pending[table].append(row)
        if len(self._pending[table]) >= self.BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._pending[table]
        if not rows:
            return
        cur = self.conn.cursor()
        if not (self.mysql and self.load_data and self._load(cur, table, rows)):
            marks = ", ".join([self.placeholder] * len(TABLES[table]))
            cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        self.counts[table] += len(rows)
        self._pending[table] = []

    def _load(self, cur: Any, table: str, rows: list[tuple[Any, ...]]) -> bool:
        """LOAD DATA LOCAL INFILE the rows (False, and no more tries, if the server refuses)."""
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", newline="\n", prefix="iochub-one-stop-", suffix=".tsv"
        ) as fh:
            fh.write("".join("\t".join(map(_tsv, row)) + "\n" for row in rows))
            fh.flush()
            try:
                cur.execute(
                    f"LOAD DATA LOCAL INFILE '{Path(fh.name).as_posix()}' INTO TABLE {table}"
                    " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\'"
                    " LINES TERMINATED BY '\\n'"
                )
            except (pymysql.err.OperationalError, pymysql.err.InternalError):
                self.load_data = False
                return False
        if cur.rowcount != len(rows):
            raise RuntimeError(f"LOAD DATA into {table}: {cur.rowcount} of {len(rows)} rows")
        return True

    def close(self) -> dict[str, int]:
        for table in TABLES:
            self._flush(table)
        cur = self.conn.cursor()
        # Indexes after loading: faster than maintaining them row by row.
        for table in ("HoSo", "NhatKyXuLy", "TaiLieuNop", "DanhSachLePhi", "YeuCauBoSung"):
            cur.execute(f"CREATE INDEX ix_{table}_MaHoSo ON {table} (MaHoSo)")
        self.conn.commit()
        self.conn.close()
        return dict(self.counts)


def _tsv(value: Any) -> str:
    """One field of LOAD DATA's default text format: NULL as \\N, backslash-escaped."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        return value
    return str(value)
