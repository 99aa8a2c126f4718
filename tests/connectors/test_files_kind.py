"""The ``files`` kind against the demo province's file drops: Excel, CSV and JSON sources.

Every file source is extracted from the generated province and its rows are counted twice: by
the manifest (rows in = landed + quarantined) and independently here, straight from the files
with openpyxl / csv / json, so a reader that drops or invents rows fails. The quirks the
simulator logs in ``defects.parquet`` (shifted headers, numbers stored as text, NFD text) are
checked against the values in the files, and whole-file failures (a corrupt workbook, a binary
"CSV") must end in quarantine with their reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.extract import run_extract
from connectors.kinds.files import POOL_MIN_FILES
from connectors.landing import Manifest
from connectors.registry import Source, load_registry
from iochub.settings import Settings
from simulator.fixtures import XML130_INBOX

FILE_SOURCES = [
    "education_exports",
    "statistics_feed",
    "health_telemedicine",
    "health_booking",
    "iot_csv_backfill",
    "agri_dt01",
    "agri_ty02",
    "agri_ts03",
    "agri_pctt01",
    "agri_dt05",
    "agri_dt08",
    "agri_dt09",
]


# ---- independent readers: what the files hold, without connectors.formats ------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > 1 else ","
    return [
        r
        for r in csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        if any(r.values())
    ]


def _json_rows(path: Path) -> list[dict[str, object]]:
    records: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))["records"]
    return records


def _sheet_data_rows(path: Path, sheet: str | None) -> list[list[object]]:
    """Data rows of a sheet: below the last merged header cell (education layout), or below the
    ``record_id`` header row (agriculture layout)."""
    workbook = openpyxl.load_workbook(path)  # not read_only: merged ranges are needed here
    ws = workbook[sheet] if sheet else workbook.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    if ws.merged_cells.ranges:
        start = max(r.max_row for r in ws.merged_cells.ranges)
    else:
        start = next(i for i, r in enumerate(rows, 1) if r and r[0] == "record_id")
    return [r for r in rows[start:] if any(v is not None and v != "" for v in r)]


def _files_of(settings: Settings, source: Source, table_pattern: str | None) -> list[Path]:
    assert source.files is not None
    inbox = Path(source.connection.resolve(settings, {}))
    files = sorted(p for p in inbox.glob(source.files.pattern) if p.is_file())
    if table_pattern:
        files = [p for p in files if p.relative_to(inbox).match(table_pattern)]
    return files


def _rows_in_files(settings: Settings, source: Source) -> dict[str, int]:
    assert source.files is not None
    counts: dict[str, int] = {}
    for table in source.tables:
        total = 0
        for path in _files_of(settings, source, table.pattern):
            if source.files.format == "csv":
                total += len(_csv_rows(path))
            elif source.files.format == "json":
                total += len(_json_rows(path))
            else:
                total += len(_sheet_data_rows(path, table.sheet))
        counts[table.name] = total
    return counts


# ---- what the lake holds ----------------------------------------------------------------------


def _landed(settings: Settings, source: str, table: str) -> pa.Table:
    parts = sorted((settings.raw_dir / source / table).rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts], promote_options="permissive")


def _quarantine(settings: Settings, source: str) -> pa.Table | None:
    parts = sorted((settings.quarantine_dir / source).rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts]) if parts else None


def _quarantined_rows(settings: Settings, source: str) -> dict[str, int]:
    quarantine = _quarantine(settings, source)
    counts: dict[str, int] = {}
    for name in quarantine.column("table_name").to_pylist() if quarantine is not None else []:
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _check_invariant(manifest: Manifest) -> None:
    assert manifest.items_in == manifest.items_landed + manifest.items_quarantined
    for table, rows in manifest.rows_in.items():
        assert rows == manifest.rows_landed.get(table, 0) + manifest.rows_quarantined.get(table, 0)


def _source(settings: Settings, name: str) -> Source:
    return load_registry(settings)[name]


# ---- every file source ---------------------------------------------------------------------


@pytest.mark.parametrize("name", FILE_SOURCES)
def test_every_file_source_lands_every_row(lake_home: Settings, name: str) -> None:
    source = _source(lake_home, name)
    expected = _rows_in_files(lake_home, source)
    assert sum(expected.values()) > 0, f"the province has no files for {name}"

    manifest = run_extract(name, lake_home)

    _check_invariant(manifest)
    assert manifest.items_quarantined == 0, manifest.items
    # Files are told apart by content: byte-identical files (a silent light trap's header-only
    # dumps of different nights) are one item.
    contents = {hashlib.sha256(p.read_bytes()).digest() for p in _files_of(lake_home, source, None)}
    assert manifest.items_in == len(contents)
    quarantined = _quarantined_rows(lake_home, name)
    for table in source.tables:
        rows = expected[table.name]
        assert manifest.rows_in.get(table.name, 0) == rows, table.name
        landed = _landed(lake_home, name, table.name).num_rows if rows else 0
        assert landed == manifest.rows_landed.get(table.name, 0), table.name
        assert landed + quarantined.get(table.name, 0) == rows, table.name
        # Quarantine is for broken rows, not for a reader that got the layout wrong.
        assert landed >= 0.9 * rows, f"{table.name}: only {landed} of {rows} rows landed"


def test_a_second_run_loads_nothing_again(lake_home: Settings) -> None:
    first = run_extract("agri_dt01", lake_home)
    second = run_extract("agri_dt01", lake_home)
    assert first.items_in > 0
    assert second.items_in == 0
    assert sum(second.rows_in.values()) == 0


# ---- the logged quirks ---------------------------------------------------------------------


def _defects(settings: Settings, source: str, kind: str) -> list[tuple[str, str]]:
    path = settings.sim_dir / "defects.parquet"
    return duckdb.execute(
        "SELECT record_key, detail FROM read_parquet(?) WHERE source = ? AND kind = ? "
        "ORDER BY record_key",
        [str(path), source, kind],
    ).fetchall()


def test_shifted_agriculture_headers_land_their_values(lake_home: Settings) -> None:
    shifted = [key for key, _ in _defects(lake_home, "agriculture", "excel_header_shift")]
    assert shifted, "the province logged no shifted report workbook"
    run_extract("agri_dt01", lake_home)
    for key in shifted:
        path = lake_home.sim_dir / "agriculture" / key  # reports/<template>/<yyyy-mm>.xlsx
        template = path.parent.name
        sheet = openpyxl.load_workbook(path).worksheets[0]
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        header_at = next(i for i, r in enumerate(cells) if r[0] == "record_id")
        assert header_at == 3, "a shifted report has its header on row 4"
        rows = [dict(zip(cells[header_at], r, strict=True)) for r in cells[header_at + 1 :]]
        assert rows
        landed = _landed(lake_home, "agri_dt01", template).to_pylist()
        by_id = {
            r["record_id"]: r for r in landed if r["_source_file"] == f"{template}/{path.name}"
        }
        quarantined = _quarantine(lake_home, "agri_dt01")
        rejected = [] if quarantined is None else quarantined.column("item").to_pylist()
        for row in rows:
            record_id = str(row["record_id"])
            if record_id not in by_id:  # a row the contract refused (negative amount)
                assert any(record_id in item for item in rejected), record_id
                continue
            for column, sent in row.items():
                got = by_id[record_id][column]
                if sent is None or sent == "":
                    assert got is None, column
                elif isinstance(sent, int | float):
                    assert got == pytest.approx(sent), column
                else:
                    assert str(got) == unicodedata.normalize("NFC", str(sent)), column


def test_education_number_as_text_lands_as_the_number(lake_home: Settings) -> None:
    logged = _defects(lake_home, "education_exports", "number_as_text")
    assert logged, "the province logged no number stored as text"
    run_extract("education_exports", lake_home)
    landed = _landed(lake_home, "education_exports", "hoc_sinh").to_pylist()
    for key, detail in logged:
        year, term, workbook, school, grade = key.split("/")
        text = detail.split("'")[1]  # "enrolment total stored as text '1.234'"
        row = next(
            r
            for r in landed
            if r["_source_file"] == f"{year}/{term}/{workbook}"
            and r["ma_truong"] == school
            and r["khoi_lop"] == grade
        )
        assert row["so_hoc_sinh__tong_so"] == int(text.replace(".", ""))
        assert row["so_hoc_sinh__tong_so"] == row["so_hoc_sinh__nam"] + row["so_hoc_sinh__nu"]


def _stat_key(row: dict[str, object] | dict[str, str]) -> str:
    """The simulator's defect key of a feed row: period/unit code/indicator."""
    unit = row["ma_xa"] or row["ma_huyen"] or row["ma_tinh"]
    return f"{row['ky_bao_cao']}/{unit}/{row['ma_chi_tieu']}"


def test_statistics_quirks_land_clean(lake_home: Settings) -> None:
    """Counts quoted with thousands dots land as the integers; NFD unit names land as NFC."""
    quoted = _defects(lake_home, "statistics_feed", "number_as_text")
    nfd = _defects(lake_home, "statistics_feed", "nfd_text")
    assert quoted and nfd
    run_extract("statistics_feed", lake_home)
    landed = _landed(lake_home, "statistics_feed", "chi_tieu").to_pylist()
    by_key = {_stat_key(r): r for r in landed}
    raw: dict[str, dict[str, str]] = {}
    for path in sorted((lake_home.sim_dir / "statistics" / "feed").glob("*.csv")):
        for r in _csv_rows(path):
            raw[_stat_key(r)] = r
    for key, _ in quoted:
        assert "." in raw[key]["tu_so"] or len(raw[key]["tu_so"]) <= 3
        assert by_key[key]["tu_so"] == int(raw[key]["tu_so"].replace(".", ""))
        assert by_key[key]["mau_so"] == int(raw[key]["mau_so"].replace(".", ""))
    for key, _ in nfd:
        sent = raw[key]["ten_don_vi"]
        assert sent != unicodedata.normalize("NFC", sent), "the file should carry NFD"
        assert by_key[key]["ten_don_vi"] == unicodedata.normalize("NFC", sent)
    # The decimal comma of the rate: "92,98" → 92.98.
    first = next(iter(raw.values()))
    assert by_key[_stat_key(first)]["ty_le"] == pytest.approx(
        float(first["ty_le"].replace(",", "."))
    )


def test_header_shift_and_text_numbers_in_education_workbooks(
    lake_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same records written plainly, with a second title row, with totals as text and a
    school name in NFD land as the same values."""
    from simulator.education.workbooks import (
        CLASS_HEADER,
        DIGITAL_HEADER,
        ENROLMENT_HEADER,
        SCHOOL_HEADER,
        TEACHER_HEADER,
        SheetData,
        write_workbook,
    )

    name = "Trường Tiểu học Tân Thuận Đông"
    plain_rows: list[list[str | int | None]] = [
        [f"87{i:05d}", "Lớp 1", 1234 + i, 600 + i, 634] for i in range(3)
    ]
    quirky_rows = [[r[0], r[1], f"{r[2]:,}".replace(",", "."), r[3], r[4]] for r in plain_rows]

    def sheets(rows: list[list[str | int | None]], school: str) -> list[SheetData]:
        return [
            SheetData(
                "Truong",
                "DANH SÁCH",
                SCHOOL_HEADER,
                [["8700001", school, "Tiểu học", "Công lập", "82", None, "28249"]],
            ),
            SheetData("HocSinh", "HỌC SINH", ENROLMENT_HEADER, rows),
            SheetData("LopHoc", "LỚP", CLASS_HEADER, [["8700001", "Lớp 1", 3]]),
            SheetData("GiaoVien", "GIÁO VIÊN", TEACHER_HEADER, [["8700001", 20, 15, 19]]),
            SheetData(
                "ChuyenDoiSo", "CĐS", DIGITAL_HEADER, [["8700001", "Có", "SMAS", None, "Có"]]
            ),
        ]

    inbox = tmp_path / "exports"
    from datetime import date

    write_workbook(inbox / "plain.xlsx", sheets(plain_rows, name), date(2025, 9, 30), None)
    write_workbook(
        inbox / "shifted.xlsx",
        sheets(quirky_rows, unicodedata.normalize("NFD", name)),
        date(2025, 9, 30),
        "Đơn vị báo cáo: xã Tân Thuận Đông – ngày 30/09/2025",
    )
    monkeypatch.setenv("IOC_EDUCATION_EXPORTS_DIR", str(inbox))
    manifest = run_extract("education_exports", lake_home)
    _check_invariant(manifest)
    assert manifest.items_landed == 2
    assert manifest.rows_quarantined == {}
    # Workbooks before HK1 2025-2026 have no "Học bạ số": an optional column, not a failure.
    assert "chuyen_doi_so" not in manifest.drift
    # Declared, so it lands empty rather than missing: staging reads it whatever the files had.
    digital = _landed(lake_home, "education_exports", "chuyen_doi_so")
    assert digital.column("hoc_ba_so").null_count == digital.num_rows
    for table in ("truong", "hoc_sinh", "lop_hoc", "giao_vien", "chuyen_doi_so"):
        landed = _landed(lake_home, "education_exports", table).to_pylist()
        by_file: dict[str, list[dict[str, object]]] = {}
        for row in landed:
            clean = {k: v for k, v in row.items() if not k.startswith("_")}
            by_file.setdefault(str(row["_source_file"]), []).append(clean)
        assert by_file["plain.xlsx"] == by_file["shifted.xlsx"], table
    pupils = _landed(lake_home, "education_exports", "hoc_sinh").to_pylist()
    assert sorted(r["so_hoc_sinh__tong_so"] for r in pupils) == [1234, 1234, 1235, 1235, 1236, 1236]
    schools = _landed(lake_home, "education_exports", "truong").to_pylist()
    assert {r["ten_truong"] for r in schools} == {unicodedata.normalize("NFC", name)}


# ---- re-sent, corrupt and undecodable files ---------------------------------------------------


def test_a_resent_file_is_not_loaded_twice(
    lake_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = lake_home.sim_dir / "statistics" / "feed"
    inbox = tmp_path / "feed"
    shutil.copytree(feed, inbox)
    monkeypatch.setenv("IOC_STATISTICS_FEED_DIR", str(inbox))
    first = run_extract("statistics_feed", lake_home)
    first_file = sorted(inbox.glob("*.csv"))[0]
    # The same bytes again under another name: nothing new.
    shutil.copy(first_file, inbox / "chi-tieu-kinh-te-so-2099-01.csv")
    second = run_extract("statistics_feed", lake_home)
    assert second.items_in == 0 and sum(second.rows_in.values()) == 0
    # A corrected file (new content) is loaded.
    corrected = first_file.read_bytes() + first_file.read_bytes().split(b"\r\n")[1] + b"\r\n"
    first_file.write_bytes(corrected)
    third = run_extract("statistics_feed", lake_home)
    assert third.items_in == 1
    assert third.rows_in["chi_tieu"] == len(_csv_rows(first_file))
    _check_invariant(third)
    assert first.items_in == len(list(feed.glob("*.csv")))


def test_a_file_unchanged_on_disk_is_not_read_again(
    lake_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding a day's new files must not read the whole inbox: a file whose size and
    modification time are those a committed run read is skipped unopened."""
    inbox = tmp_path / "feed"
    shutil.copytree(lake_home.sim_dir / "statistics" / "feed", inbox)
    monkeypatch.setenv("IOC_STATISTICS_FEED_DIR", str(inbox))
    first = run_extract("statistics_feed", lake_home)
    files = sorted(inbox.glob("*.csv"))
    assert sorted(first.seen_files) == [f.name for f in files]
    # Other bytes of the same size, the modification time put back: proof that the next run
    # does not open the file (read, it would be a new content, landed or quarantined).
    target = files[0]
    stat = target.stat()
    target.write_bytes(b"x" * stat.st_size)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = run_extract("statistics_feed", lake_home)
    assert second.items_in == 0 and second.seen_files == {}
    # Written again (a new modification time): read, and its new content handled.
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = run_extract("statistics_feed", lake_home)
    assert list(third.seen_files) == [target.name] and third.items_in == 1
    _check_invariant(third)


def test_encodings_and_delimiters_are_detected(
    lake_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same feed file as UTF-16 with BOM, as a comma-separated CSV with LF ends, as
    UTF-8 without BOM: the same rows land from each."""
    source_file = sorted((lake_home.sim_dir / "statistics" / "feed").glob("*.csv"))[0]
    text = source_file.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    comma = io.StringIO()
    csv.writer(comma, lineterminator="\n").writerows(rows)
    inbox = tmp_path / "feed"
    inbox.mkdir()
    (inbox / "chi-tieu-kinh-te-so-a.csv").write_bytes(text.encode("utf-16"))
    (inbox / "chi-tieu-kinh-te-so-b.csv").write_bytes(comma.getvalue().encode("utf-8"))
    (inbox / "chi-tieu-kinh-te-so-c.csv").write_bytes(text.encode("utf-8"))
    monkeypatch.setenv("IOC_STATISTICS_FEED_DIR", str(inbox))
    manifest = run_extract("statistics_feed", lake_home)
    _check_invariant(manifest)
    assert manifest.items_landed == 3
    landed = _landed(lake_home, "statistics_feed", "chi_tieu").to_pylist()
    by_file: dict[str, list[dict[str, object]]] = {}
    for row in landed:
        by_file.setdefault(str(row["_source_file"]), []).append(
            {k: v for k, v in row.items() if not k.startswith("_")}
        )
    quarantined = _quarantined_rows(lake_home, "statistics_feed").get("chi_tieu", 0)
    assert len(by_file["chi-tieu-kinh-te-so-a.csv"]) * 3 + quarantined == len(rows[1:]) * 3
    assert by_file["chi-tieu-kinh-te-so-a.csv"] == by_file["chi-tieu-kinh-te-so-b.csv"]
    assert by_file["chi-tieu-kinh-te-so-a.csv"] == by_file["chi-tieu-kinh-te-so-c.csv"]


def test_corrupt_workbook_and_binary_csv_are_quarantined_whole(
    lake_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = sorted((lake_home.sim_dir / "agriculture" / "reports" / "crop_area").glob("*.xlsx"))[0]
    reports = tmp_path / "reports" / "crop_area"
    reports.mkdir(parents=True)
    shutil.copy(good, reports / good.name)
    content = good.read_bytes()
    (reports / "2099-01.xlsx").write_bytes(content[: len(content) // 2])  # truncated transfer
    monkeypatch.setenv("IOC_AGRI_DT01_DIR", str(tmp_path / "reports"))
    manifest = run_extract("agri_dt01", lake_home)
    _check_invariant(manifest)
    assert (manifest.items_in, manifest.items_landed, manifest.items_quarantined) == (2, 1, 1)
    assert manifest.items[next(k for k, v in manifest.items.items() if "2099-01" in v)].startswith(
        "quarantined:corrupt_workbook:"
    )
    assert manifest.rows_in["crop_area"] == len(_sheet_data_rows(good, None))

    drops = tmp_path / "drops"
    drops.mkdir()
    good_csv = sorted(
        (lake_home.sim_dir / "agriculture" / "drops" / "TY02").glob("vaccination_*.csv")
    )[0]
    shutil.copy(good_csv, drops / good_csv.name)
    (drops / "vaccination_2099-01-20.csv").write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    monkeypatch.setenv("IOC_AGRI_TY02_DIR", str(drops))
    manifest = run_extract("agri_ty02", lake_home)
    _check_invariant(manifest)
    assert (manifest.items_in, manifest.items_landed, manifest.items_quarantined) == (2, 1, 1)
    quarantine = _quarantine(lake_home, "agri_ty02")
    assert quarantine is not None
    whole = [r for r in quarantine.to_pylist() if r["table_name"] is None]
    assert [(r["item"], r["reason"]) for r in whole] == [
        ("vaccination_2099-01-20.csv", "undecodable")
    ]
    assert whole[0]["raw_content"] == (drops / "vaccination_2099-01-20.csv").read_bytes()
    assert manifest.rows_in["vaccination"] == len(_csv_rows(good_csv))


# ---- decoding in worker processes -------------------------------------------------------------


def _without_run(table: pa.Table) -> list[dict[str, object]]:
    """Rows without what tells one run from another (its id, the quarantine's timestamp)."""
    drop = [c for c in table.column_names if "run_id" in c or c == "quarantined_at"]
    rows = table.drop_columns(drop).to_pylist()
    for row in rows:
        if row.get("table_name") is not None:  # a rejected row: its JSON carries the run id
            raw = json.loads(row.pop("raw_content"))
            row["raw_content"] = {k: v for k, v in raw.items() if k != "_run_id"}
    return rows


def test_decoding_processes_land_what_one_process_lands(
    lake_home: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A big inbox is decoded in worker processes; the lake must not tell: the same rows in the
    same order, the same quarantine and the same handled files as decoding in one process."""
    xml130 = lake_home.sim_dir / "health" / "xml130" / "inbox"
    picked = sorted(xml130.rglob("*.xml"))[: POOL_MIN_FILES + 8]
    inbox = tmp_path / "inbox"
    for path in picked:
        target = inbox / path.relative_to(xml130)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    resent = picked[3].read_bytes()
    (inbox / "resent.xml").write_bytes(resent)
    (inbox / "truncated.xml").write_bytes(resent[: len(resent) // 2])
    monkeypatch.setenv("IOC_HEALTH_XML130_INBOX", str(inbox))

    homes = {workers: tmp_path / f"home_{workers}" for workers in (1, 2)}
    manifests = {}
    for workers, home in homes.items():
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="connectors.kinds.files"):
            manifests[workers] = run_extract(
                "health_xml130", replace(lake_home, home=home, extract_workers=workers)
            )
        assert ("decoding processes" in caplog.text) == (workers > 1), caplog.text

    serial, parallel = manifests[1], manifests[2]
    _check_invariant(parallel)
    # The re-sent copy is one item with its original; the province's own inbox has broken files.
    assert parallel.items_in == len(picked) + 1 and parallel.items_quarantined >= 1
    assert parallel.items == serial.items
    assert parallel.rows_in == serial.rows_in and sum(parallel.rows_in.values()) > 0
    assert parallel.rows_landed == serial.rows_landed
    assert parallel.rows_quarantined == serial.rows_quarantined
    settings = {w: replace(lake_home, home=h) for w, h in homes.items()}
    for table in parallel.rows_landed:
        assert _without_run(_landed(settings[2], "health_xml130", table)) == _without_run(
            _landed(settings[1], "health_xml130", table)
        ), table
    quarantines = [_quarantine(settings[w], "health_xml130") for w in (1, 2)]
    assert quarantines[0] is not None and quarantines[1] is not None
    assert _without_run(quarantines[1]) == _without_run(quarantines[0])
    assert "truncated.xml" in quarantines[1].column("item").to_pylist()


def test_decoding_processes_do_not_run_the_main_script_again(tmp_path: Path) -> None:
    """Under Airflow the main script is ``airflow``, which a spawned process must not import
    again (in a task's environment it fails): a main script that refuses to be re-run still
    lands a big inbox with decoding processes."""
    originals = sorted(XML130_INBOX.rglob("*.xml"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number in range(POOL_MIN_FILES):
        shutil.copy(originals[number % len(originals)], inbox / f"copy_{number:03}.xml")
    script = tmp_path / "main_script.py"
    script.write_text(
        "if __name__ != '__main__':\n"
        "    raise RuntimeError('the main script ran again in a decoding process')\n"
        "import logging\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "from connectors.extract import run_extract\n"
        "from iochub.settings import get_settings\n"
        "manifest = run_extract('health_xml130', get_settings())\n"
        "print('landed', sum(manifest.rows_landed.values()))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        env={
            **os.environ,
            "IOC_HOME": str(tmp_path / "home"),
            "IOC_HEALTH_XML130_INBOX": str(inbox),
            "IOC_EXTRACT_WORKERS": "2",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "decoding processes" in done.stderr
    assert int(done.stdout.split("landed ")[1]) > 0
