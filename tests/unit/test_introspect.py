"""What ``ioc sources new --from-*`` guesses (connectors.introspect) and what it writes from it
(connectors.scaffold): names, value patterns, admin codes, types, cursor, key, passwords, SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from sqlalchemy import types as sa_types
from sqlalchemy.dialects import mysql
from typer.testing import CliRunner

from connectors.introspect import (
    ColumnGuess,
    Introspection,
    IntrospectionError,
    TableGuess,
    admin_share,
    fixture_rows,
    guess_column,
    introspect_database,
    introspect_file,
    pii_by_name,
    pii_by_values,
    sqlalchemy_url,
    strip_password,
    suggest_cursor,
    type_from_sql,
    type_from_values,
)
from connectors.registry import ColumnType, PiiTreatment, Source, TableSpec
from connectors.scaffold import (
    ScaffoldError,
    render_introspected,
    render_staging,
    render_test,
    scaffold_introspected,
    summarise,
)
from iochub.cli import app

HMAC, DROP, YEAR = PiiTreatment.HMAC, PiiTreatment.DROP, PiiTreatment.YEAR


@pytest.mark.parametrize(
    ("name", "treatment"),
    [
        ("ho_ten", HMAC),
        ("HO_TEN", HMAC),
        ("Họ và tên", HMAC),
        ("full_name", HMAC),
        ("ten", HMAC),
        ("ten_benh_nhan", HMAC),
        ("ChuHoSo", HMAC),
        ("so_cccd", HMAC),
        ("SO_CMND", HMAC),
        ("citizen_id", HMAC),
        ("so_dien_thoai", HMAC),
        ("SoDienThoai", HMAC),
        ("sdt", HMAC),
        ("phone", HMAC),
        ("ma_the_bhyt", HMAC),
        ("email", HMAC),
        ("email_address", HMAC),  # an email, not an address
        ("dia_chi", DROP),
        ("Địa chỉ thường trú", DROP),
        ("address", DROP),
        ("ngay_sinh", YEAR),
        ("birth_date", YEAR),
        ("dob", YEAR),
        ("ten_don_vi", None),  # a unit's name
        ("do_bao_phu", None),  # holds "dob", is no birth date
        ("ma_xa", None),
        ("updated_at", None),
        ("dien_tich_ha", None),
    ],
)
def test_personal_data_by_name(name: str, treatment: PiiTreatment | None) -> None:
    found = pii_by_name(name)
    assert (found[0] if found else None) is treatment


def test_personal_data_by_value_uses_the_scanner_patterns() -> None:
    cccd = pii_by_values(["087012345678", "079123456789", None, ""])  # type: ignore[list-item]
    assert cccd is not None and cccd[:2] == ("citizen_id", 2) and "*" in cccd[2]
    assert pii_by_values(["0912345678", "+84987654321"])[:2] == ("phone", 2)  # type: ignore[index]
    assert pii_by_values(["DN4870123456789"])[:2] == ("insurance_card", 1)  # type: ignore[index]
    names = pii_by_values(["Nguyễn Văn An", "Trần Thị Bích", "Sầu riêng"])
    assert names is not None and names[:2] == ("person_name", 2)
    assert names[2] == "N… V… A…"  # masked, never the value
    # One phone number in a notes column is enough: it is clear personal data all the same.
    assert pii_by_values(["ok", "gọi 0912345678", "ok"])[:2] == ("phone", 1)  # type: ignore[index]
    # Pseudonyms, record ids, codes and amounts are not personal data.
    hexed = "a3f1" * 16
    assert pii_by_values([hexed, "HS001", "30280", "12.5", "WQ-01-202507010100"]) is None


def test_masked_samples_are_printed_never_written() -> None:
    column = guess_column("so_giay_to", ["087012345678", "079123456789"])
    assert column.pii is HMAC and column.pii_sample == "087*******78"
    table = TableGuess("t", "t", {"table": "t"}, [column])
    intro = Introspection("sql", "sqlite:///x", "sqlite:///x", tables=[table])
    assert "087*******78" not in render_introspected("x_y", "health", intro)
    assert any("087*******78" in line for line in summarise("x_y", intro))


def test_admin_codes_are_matched_against_both_structures() -> None:
    assert admin_share(["87", "30280", "866"]) == 1.0  # province, commune, old district
    assert admin_share(["87", "99999999"]) == 0.5
    assert admin_share(["Đồng Tháp", "87"]) == 0.0  # text is never a code
    assert admin_share([]) == 0.0


def test_admin_code_column_by_values_and_name() -> None:
    column = guess_column("ma_xa", ["30280", "29959", "30280"])
    assert column.admin_code and column.type is ColumnType.STRING
    # Codes without a leading zero look like integers: the name says code, so a string.
    province = guess_column("ma_tinh", ["87", "82"])
    assert province.admin_code and province.type is ColumnType.STRING
    assert guess_column("MaTinh", ["87", "82"]).admin_code  # camelCase names too
    # A count whose values happen to be province codes (12 is Lai Châu) is a count.
    count = guess_column("so_luong", ["12", "5"])
    assert not count.admin_code and count.type is ColumnType.INTEGER
    # A unique id that looks like commune codes, named like an id, is not one either.
    record = guess_column("record_no", ["00001", "00004", "00007"])
    assert not record.admin_code


@pytest.mark.parametrize(
    ("values", "expected", "fmt"),
    [
        (["2025-01-02", "2024-12-31"], ColumnType.DATE, None),
        (["2025-01-02 10:00:00", "2025-01-02T10:00:00+07:00", "2025-01-03"], "timestamp", None),
        (["03/01/2025", "4/1/2025"], ColumnType.DATE, "%d/%m/%Y"),
        (["12", "-3", "0"], ColumnType.INTEGER, None),
        (["012", "12"], ColumnType.STRING, None),  # a leading zero: a code
        (["1234567890123456"], ColumnType.STRING, None),  # too long for a quantity
        (["1,5", "2.25", "3"], ColumnType.DECIMAL, None),
        (["true", "False", "có"], ColumnType.BOOLEAN, None),
        (["HS001", "12"], ColumnType.STRING, None),
        ([None, ""], ColumnType.STRING, None),
    ],
)
def test_type_from_values(values: list[str], expected: str, fmt: str | None) -> None:
    assert type_from_values(values) == (ColumnType(expected), fmt)


@pytest.mark.parametrize(
    ("sql_type", "expected"),
    [
        (sa_types.Integer(), ColumnType.INTEGER),
        (sa_types.BigInteger(), ColumnType.INTEGER),
        (sa_types.Numeric(10, 0), ColumnType.INTEGER),
        (sa_types.Numeric(10, 2), ColumnType.DECIMAL),
        (sa_types.Float(), ColumnType.DECIMAL),
        (sa_types.REAL(), ColumnType.DECIMAL),
        (sa_types.Boolean(), ColumnType.BOOLEAN),
        (sa_types.DateTime(), ColumnType.TIMESTAMP),
        (sa_types.TIMESTAMP(), ColumnType.TIMESTAMP),
        (sa_types.Date(), ColumnType.DATE),
        (sa_types.String(12), ColumnType.STRING),
        (sa_types.Text(), ColumnType.STRING),
        (sa_types.JSON(), ColumnType.STRING),
        (mysql.TINYINT(display_width=1), ColumnType.BOOLEAN),  # MySQL's BOOLEAN
        (mysql.TINYINT(), ColumnType.INTEGER),
    ],
)
def test_type_from_database(sql_type: object, expected: ColumnType) -> None:
    assert type_from_sql(sql_type) is expected


def _col(name: str, type_: ColumnType, required: bool = False) -> ColumnGuess:
    return ColumnGuess(name, type_, required=required)


def test_cursor_suggestion() -> None:
    ts, day = ColumnType.TIMESTAMP, ColumnType.DATE
    cursor, note = suggest_cursor(
        [_col("ngay_cap_nhat", day, True), _col("updated_at", ts, True), _col("created", ts)]
    )
    assert cursor == "updated_at" and "confirm" in note
    assert suggest_cursor([_col("last_modified", ts)])[0] == "last_modified"
    assert suggest_cursor([_col("lastUpdate", ts, True)])[0] == "lastUpdate"
    assert suggest_cursor([_col("NgayCapNhat", ts, True)])[0] == "NgayCapNhat"  # camelCase
    assert suggest_cursor([_col("ngay_cap_nhat", day, True)])[0] == "ngay_cap_nhat"
    nullable = suggest_cursor([_col("modified_on", day)])
    assert nullable[0] == "modified_on" and "NULL is never read" in nullable[1]
    # Created/report dates are not update times, and a text column is no cursor.
    assert suggest_cursor([_col("created_at", ts, True), _col("report_date", day)])[0] is None
    assert suggest_cursor([_col("updated_by", ColumnType.STRING)])[0] is None


def test_password_never_written() -> None:
    assert strip_password("postgresql://ioc:s3cr%40t@db.local:5432/agri") == (
        "postgresql://ioc@db.local:5432/agri",
        True,
    )
    assert strip_password("mysql://root@127.0.0.1/x") == ("mysql://root@127.0.0.1/x", False)
    assert sqlalchemy_url("postgres://u:p@h/db")[0] == "postgresql+psycopg://u:p@h/db"
    assert sqlalchemy_url("mariadb://u@h:3307/db")[0] == "mysql+pymysql://u@h:3307/db"
    table = TableGuess("t", "t", {"table": "t"}, [_col("id", ColumnType.INTEGER, True)])
    table.primary_key, table.key_from = ["id"], "database"
    intro = Introspection(
        "sql", "postgresql://ioc@db.local/agri", "postgresql://ioc@db.local/agri", True
    )
    intro.tables.append(table)
    text = render_introspected("agri_x", "agriculture", intro)
    assert "s3cr" not in text and "Set IOC_AGRI_X_URL to the full URL" in text
    assert Source.model_validate(yaml.safe_load(text)).connection.default == (
        "postgresql://ioc@db.local/agri"
    )


def test_sqlite_url_forms(tmp_path: Path) -> None:
    path = tmp_path / "a b.sqlite"
    sqlite3.connect(path).close()
    for given in (str(path), f"sqlite://{path}", f"file://{path}"):
        engine_url, default = sqlalchemy_url(given)
        assert engine_url == f"sqlite:///{path}" and default == f"sqlite://{path}"


def test_table_without_a_key_gets_a_todo(tmp_path: Path) -> None:
    path = tmp_path / "nokey.sqlite"
    with sqlite3.connect(path) as lite:
        lite.execute("CREATE TABLE log (ma_ho_so TEXT NOT NULL, buoc INTEGER, ghi_chu TEXT)")
        lite.execute("CREATE TABLE bare (x TEXT)")
        lite.executemany(
            "INSERT INTO log VALUES (?, ?, ?)", [("HS1", 1, "a"), ("HS2", 1, "b"), ("HS3", 2, None)]
        )
        lite.execute("INSERT INTO bare VALUES ('same'), ('same')")
    intro = introspect_database(str(path))
    log, bare = (next(t for t in intro.tables if t.name == n) for n in ("log", "bare"))
    assert log.primary_key == ["ma_ho_so"] and log.key_from == "guessed"
    assert "no primary key" in log.key_note and "confirm" in log.key_note
    assert bare.primary_key == [] and bare.key_from == "none"
    text = render_introspected("pscc_log", "public_services", intro)
    assert "primary_key: [ma_ho_so]  # TODO confirm" in text
    assert "primary_key: []  # TODO" in text
    Source.model_validate(yaml.safe_load(text))


def test_csv_sample_headers_become_keys(tmp_path: Path) -> None:
    sample = tmp_path / "dang-ky-2025-01.csv"
    sample.write_text(
        "Mã hồ sơ;Họ và tên;Mã xã;Ngày nộp;Diện tích (ha)\n"
        "HS001;Nguyễn Văn An;30280;03/01/2025;1,5\n"
        "HS002;Trần Thị Bích;29959;04/01/2025;2\n",
        encoding="utf-8-sig",
    )
    intro = introspect_file(sample)
    (table,) = intro.tables
    names = [c.name for c in table.columns]
    assert names == ["ma_ho_so", "ho_va_ten", "ma_xa", "ngay_nop", "dien_tich_ha"]
    assert table.column("ma_ho_so").title == "Mã hồ sơ"
    assert table.column("ho_va_ten").pii is HMAC
    assert table.column("ma_xa").admin_code
    assert table.column("ngay_nop").format == "%d/%m/%Y"
    assert table.primary_key == ["ma_ho_so"] and table.key_from == "guessed"
    assert intro.default == str(tmp_path)
    # The month in the name varies from file to file: the pattern leaves it open.
    assert table.name == "dang_ky" and table.locator == {"pattern": "dang-ky-*.csv"}


def test_staging_is_portable_sql() -> None:
    source = Source.model_validate(
        {
            "name": "demo_x",
            "sector": "health",
            "title": "t",
            "owner": "o",
            "kind": "sql",
            "connection": {"env": "IOC_DEMO_X_URL"},
            "schedule": "@daily",
            "freshness_hours": 24,
            "tables": [
                {
                    "name": "things",
                    "title": "things",
                    "table": "things",
                    "primary_key": ["id"],
                    "columns": {
                        "id": {"type": "integer"},
                        "value": {"type": "decimal"},
                        "name": {},
                        "Ngày tạo": {"type": "date"},
                        "ngay_sinh": {"type": "date"},
                    },
                    "pii": {"so_cccd": "hmac", "ngay_sinh": "year", "dia_chi": "drop"},
                }
            ],
        }
    )
    sql = render_staging(source, source.tables[0])
    assert "cast(value as double precision) as things_value" in sql  # never bare `double`
    assert "cast(name as varchar) as things_name" in sql  # keywords are no aliases
    assert 'cast("Ngày tạo" as date) as ngay_tao' in sql
    assert "cast(so_cccd as varchar) as so_cccd_key" in sql
    assert "cast(ngay_sinh as integer) as ngay_sinh_year" in sql
    assert "dia_chi" not in sql.split("with source")[1]  # dropped at landing
    # One place to switch to the latest version per key: the source() call, once.
    assert sql.count("{{") == 1 and "{{ source_latest('demo_x', 'things') }}" in sql


def test_fixture_rows_respect_the_contract() -> None:
    table = TableSpec.model_validate(
        {
            "name": "t",
            "title": "t",
            "table": "t",
            "primary_key": ["id"],
            "incremental": {"cursor": "updated_at"},
            "columns": {
                "id": {"type": "integer", "required": True},
                "kind": {"codes": ["a", "b"]},
                "dose": {"type": "integer", "min": 1, "max": 3},
                "share": {"type": "decimal", "min": 0, "max": 1},
                "ma_xa": {"admin_code": True},
                "updated_at": {"type": "timestamp", "future": False},
                "note": {},
            },
            "pii": {"so_cccd": "hmac"},
        }
    )
    rows = fixture_rows(table, 5)
    assert len({r["id"] for r in rows}) == 5
    assert all(r["kind"] in ("a", "b", None) for r in rows)
    assert all(r["dose"] is None or 1 <= r["dose"] <= 3 for r in rows)  # type: ignore[operator]
    assert all(r["share"] is None or 0 <= r["share"] <= 1 for r in rows)  # type: ignore[operator]
    assert admin_share([str(r["ma_xa"]) for r in rows if r["ma_xa"]]) == 1.0
    assert all(r["updated_at"] is not None and "so_cccd" in r for r in rows)
    assert rows[-1]["note"] is None and rows[0]["note"] is not None  # optional left empty


@pytest.mark.parametrize(
    ("kind", "queries"), [("sql", False), ("sql", True), ("files", False), ("rest", False)]
)
def test_scaffolded_tests_are_valid_python(kind: str, queries: bool) -> None:
    text = render_test("agri_some_long_source_name", kind, queries=queries)
    compile(text, "test_source.py", "exec")
    assert "lake_home" not in text  # never the demo province's fixture
    assert max(len(line) for line in text.splitlines()) <= 100


def test_never_overwrites_and_one_way_in(tmp_path: Path) -> None:
    path = tmp_path / "one.sqlite"
    with sqlite3.connect(path) as lite:
        lite.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        lite.execute("INSERT INTO t VALUES (1, 'a')")
    where = {
        "sources_dir": tmp_path / "sources",
        "dbt_project_dir": tmp_path / "dbt",
        "tests_dir": tmp_path / "tests",
    }
    made = scaffold_introspected("demo_one", "health", introspect_database(str(path)), **where)
    before = made.registry.read_text()
    with pytest.raises(ScaffoldError, match="will not overwrite"):
        scaffold_introspected("demo_one", "iot", introspect_database(str(path)), **where)
    assert made.registry.read_text() == before
    with pytest.raises(IntrospectionError, match="does not exist"):
        introspect_database(str(tmp_path / "missing.sqlite"))
    runner = CliRunner()
    for args in ([], ["--kind", "sql", "--from-db", str(path)]):
        result = runner.invoke(app, ["sources", "new", "demo_two", "--sector", "health", *args])
        assert result.exit_code == 1 and "give one of" in result.output
