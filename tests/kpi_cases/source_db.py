"""The hand-written KPI cases as the one-stop-shop system's own database.

``one_stop/dossiers.yaml`` holds the rows by hand, in the source's field names; this module
writes them, unchanged but for the date format and the documented defaults, into a SQLite file
with the simulator's DDL (``simulator.public_services.store.TABLES``, the layout the demo's
MariaDB database has). The ``sql`` connector then lands that file as it lands the province's
database, so the cases reach ``fct_kpi_value`` through the real extract and dbt build. The
cases' ``later`` changes are applied to the file between a first and a second extract.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from simulator.public_services.store import TABLES
from tests.kpi_cases.case_source import CaseSource

CASES_DIR = Path(__file__).parent / "one_stop"
DOSSIERS = CASES_DIR / "dossiers.yaml"

_CHILDREN = ("NhatKyXuLy", "TaiLieuNop", "DanhSachLePhi", "YeuCauBoSung", "KetQuaXuLy")
_NOT_COLUMNS = {*_CHILDREN, "later"}
_HO_SO_COLUMNS = [name for name, _ in TABLES["HoSo"]]
# Dates of HoSo that say something happened (NgayHenTra is a promise): the latest is when the
# system last changed the row, its updated_at, unless the case says otherwise.
_EVENT_DATES = ("NgayNopHoSo", "NgayTiepNhan", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi")
_DATE_COLUMNS = {*_EVENT_DATES, "NgayHenTra", "NgayXuLy"}
# The seven content elements of a public entry (CongKhaiTTHC): each is 1 unless the case names
# it in `lacks`, so a row says only what its publication left out.
_CONTENT_FLAGS = (
    "CoTenThuTuc",
    "CoTrinhTu",
    "CoCachThuc",
    "CoThanhPhanHoSo",
    "CoThoiHan",
    "CoDoiTuong",
    "CoCoQuan",
)


@dataclass(frozen=True)
class Change:
    """A row changed (``values``) or deleted (``values`` None) after the first extract."""

    table: str
    key: str
    key_value: Any
    values: dict[str, Any] | None


@dataclass
class SourceRows:
    """Rows per table, each a tuple in the order of the table's columns in ``TABLES``."""

    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )
    changes: list[Change] = field(default_factory=list)

    def add(self, table: str, **values: Any) -> None:
        columns = [name for name, _ in TABLES[table]]
        unknown = set(values) - set(columns)
        if unknown:
            raise ValueError(f"{table}: no column(s) {sorted(unknown)}")
        self.tables[table].append(tuple(values.get(name) for name in columns))


def source_timestamp(value: str | None) -> str | None:
    """``yyyy-mm-dd hh:mm[:ss]`` (a date alone: 08:00) as the system's yyyyMMddHHmmss text."""
    if value is None:
        return None
    text = str(value)
    moment = datetime.fromisoformat(f"{text} 08:00" if len(text) == 10 else text)
    return moment.strftime("%Y%m%d%H%M%S")


def _source_values(values: dict[str, Any]) -> dict[str, Any]:
    """Fields as the system stores them: dates as yyyyMMddHHmmss, updated_at as ISO text."""
    out = dict(values)
    for name in _DATE_COLUMNS & out.keys():
        out[name] = source_timestamp(out[name])
    if out.get("updated_at") is not None:
        out["updated_at"] = datetime.fromisoformat(str(out["updated_at"])).isoformat(" ")
    return out


def source_day(value: str | None) -> str | None:
    """``yyyy-mm-dd`` as the catalogue tables' yyyyMMdd text (their dates carry no time)."""
    return None if value is None else date.fromisoformat(str(value)).strftime("%Y%m%d")


def load_cases(path: Path = DOSSIERS) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _dossiers(cases: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every dossier with the defaults and its case's commune codes filled in."""
    for case in cases["cases"]:
        for dossier in case.get("dossiers", []):
            yield {**cases["defaults"], **case.get("where", {}), **dossier}


def source_rows(cases: dict[str, Any]) -> SourceRows:
    rows = SourceRows()
    procedures = {p["MaTTHC"]: p for p in cases["procedures"]}
    for procedure in cases["procedures"]:
        rows.add("DanhMucTTHC", **procedure)
    for position, dossier in enumerate(_dossiers(cases), start=1):
        _add_dossier(rows, position, dossier, procedures[dossier["MaTTHC"]])
    for case in cases["cases"]:
        where = {"MaTinh": cases["defaults"]["MaTinh"], **case.get("where", {})}
        for petition in case.get("petitions", []):
            later = petition.get("later")
            fields = {k: v for k, v in petition.items() if k != "later"}
            rows.add("PhanAnhKienNghi", **_source_values({**where, **fields}))
            if later is not None:
                values = None if later == "deleted" else _source_values(later)
                rows.changes.append(Change("PhanAnhKienNghi", "MaPAKN", petition["MaPAKN"], values))
        for publication in case.get("publications", []):
            _add_publication(rows, publication)
    return rows


def _add_publication(rows: SourceRows, publication: dict[str, Any]) -> None:
    """A publication decision (QuyetDinhCongBo) and, when it was made public (``public``), its
    entry on the national procedure database (CongKhaiTTHC), sharing MaCongBo and MaTTHC."""
    keys = {"MaCongBo": publication["MaCongBo"], "MaTTHC": publication["MaTTHC"]}
    rows.add(
        "QuyetDinhCongBo",
        **keys,
        SoQuyetDinh=publication["SoQuyetDinh"],
        NgayQuyetDinh=source_day(publication["NgayQuyetDinh"]),
        NgayHieuLucVanBan=source_day(publication["NgayHieuLucVanBan"]),
    )
    public = publication.get("public")
    if public is None:
        return
    lacks = set(public.get("lacks", []))
    unknown = lacks - set(_CONTENT_FLAGS)
    if unknown:
        raise ValueError(f"{publication['MaCongBo']}: no content flag(s) {sorted(unknown)}")
    flags = {name: 0 if name in lacks else 1 for name in _CONTENT_FLAGS}
    rows.add("CongKhaiTTHC", **keys, NgayCongKhai=source_day(public["NgayCongKhai"]), **flags)


def _add_dossier(
    rows: SourceRows, position: int, dossier: dict[str, Any], procedure: dict[str, Any]
) -> None:
    unknown = set(dossier) - set(_HO_SO_COLUMNS) - _NOT_COLUMNS
    if unknown:
        raise ValueError(f"{dossier['MaHoSo']}: unknown field(s) {sorted(unknown)}")
    code = dossier["MaHoSo"]
    fields = {k: v for k, v in dossier.items() if k not in _NOT_COLUMNS}
    ho_so = _source_values({name: None for name in _EVENT_DATES} | fields)
    ho_so.setdefault("id", position)
    ho_so["NgayNopHoSo"] = ho_so["NgayNopHoSo"] or ho_so["NgayTiepNhan"]
    if ho_so["TrangThaiHoSo"] == 10 and ho_so.get("NgayTra") is None:
        ho_so["NgayTra"] = ho_so["NgayKetThucXuLy"]
    if "updated_at" not in ho_so:
        last = max(ho_so[name] for name in _EVENT_DATES if ho_so.get(name))
        ho_so["updated_at"] = datetime.strptime(last, "%Y%m%d%H%M%S").isoformat(" ")
    for name in ("TenTTHC", "MaLinhVuc", "TenLinhVuc"):
        ho_so[name] = procedure[name]
    ho_so["DonViXuLy"] = f"UBX-{ho_so['MaXa']}" if ho_so.get("MaXa") else None
    rows.add("HoSo", **ho_so)
    if "later" in dossier:
        rows.changes.append(Change("HoSo", "id", ho_so["id"], _source_values(dossier["later"])))

    for step, (moment, text, *status) in enumerate(dossier.get("NhatKyXuLy", []), start=1):
        rows.add(
            "NhatKyXuLy",
            MaHoSo=code,
            BuocXuLy=step,
            ThoiDiemXuLy=source_timestamp(moment),
            NoiDungXuLy=text,
            TrangThai=status[0] if status else None,
        )
    for number, (digitised, reused, from_store) in enumerate(
        dossier.get("TaiLieuNop", []), start=1
    ):
        rows.add(
            "TaiLieuNop",
            MaHoSo=code,
            STT=number,
            TenTepDinhKem=f"thanh_phan_{number}.pdf",
            DuocSoHoa=digitised,
            DuocTaiSuDung=reused,
            DuocLayTuKhoDMQG=from_store,
        )
    for number, (amount, paid_online) in enumerate(dossier.get("DanhSachLePhi", []), start=1):
        rows.add(
            "DanhSachLePhi",
            MaHoSo=code,
            STT=number,
            TenPhiLePhi="Lệ phí",
            Gia=amount,
            DaThanhToanTrucTuyen=paid_online,
        )
    for number, (asked, answered) in enumerate(dossier.get("YeuCauBoSung", []), start=1):
        rows.add(
            "YeuCauBoSung",
            MaHoSo=code,
            LanYeuCau=number,
            NgayYeuCau=source_timestamp(asked),
            NoiDungYeuCau="Bổ sung giấy tờ còn thiếu",
            NgayBoSung=source_timestamp(answered),
        )
    for number, result in enumerate(dossier.get("KetQuaXuLy", []), start=1):
        electronic, path = (
            result if isinstance(result, list) else (result, f"ketqua/{code}-{number}.pdf")
        )
        rows.add(
            "KetQuaXuLy",
            MaHoSo=code,
            SoKyHieu=f"{number}/KQ-{code}",
            NgayKy=ho_so["NgayKetThucXuLy"],
            LaBanDienTu=electronic,
            DuongDanTep=path if electronic else None,
        )


def write_sqlite(path: Path, rows: SourceRows) -> dict[str, int]:
    """A fresh SQLite file at ``path`` holding ``rows``; rows written per table."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        for table, columns in TABLES.items():
            db.execute(f"CREATE TABLE {table} ({', '.join(f'{n} {t}' for n, t in columns)})")
            marks = ", ".join("?" * len(columns))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows.tables[table])
    db.close()
    return {table: len(values) for table, values in rows.tables.items()}


def apply_changes(path: Path, rows: SourceRows) -> int:
    """Apply the cases' ``later`` changes to the SQLite file; rows changed or deleted."""
    with sqlite3.connect(path) as db:
        for change in rows.changes:
            where = f"WHERE {change.key} = ?"
            if change.values is None:
                db.execute(f"DELETE FROM {change.table} {where}", [change.key_value])
                continue
            assignments = ", ".join(f"{name} = ?" for name in change.values)
            db.execute(
                f"UPDATE {change.table} SET {assignments} {where}",
                [*change.values.values(), change.key_value],
            )
    db.close()
    return len(rows.changes)


def _write_stage(folder: Path, stage: str) -> None:
    """The database as it stands at ``stage``: written whole first, then the ``later`` changes."""
    rows = source_rows(load_cases())
    if stage == "first":
        folder.mkdir(parents=True, exist_ok=True)
        write_sqlite(folder / "one_stop.sqlite", rows)
    else:
        apply_changes(folder / "one_stop.sqlite", rows)


CASE_SOURCE = CaseSource(
    folder="one_stop",
    env=lambda folder: {"IOC_ONE_STOP_URL": f"sqlite://{folder / 'one_stop.sqlite'}"},
    write=_write_stage,
    sources=("one_stop",),
)
