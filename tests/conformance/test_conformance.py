"""Conformance corpus: files written by hand from the official texts, landed through the real
extract, compared with what the texts say should happen.

Each case is a folder ``tests/conformance/<format>/<case>/`` holding the files a system would
drop (sub-folders included) and ``expected.yaml`` (see ``README.md`` here). Every case runs in
its own throwaway ``IOC_HOME``: the files are copied into an inbox, the source's connection
variable points at it, ``run_extract`` lands them, and the committed manifest, the landed
Parquet and the quarantine are compared with the expectation. Whatever the case, the run must
not raise and nothing may be lost (items and rows in = landed + quarantined, manifest and lake
agree, a file read whole with no data row is counted empty).
"""

from __future__ import annotations

import math
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import yaml

from connectors.extract import run_extract
from connectors.landing import PLACEHOLDER, Manifest, read_manifests
from connectors.registry import Source, load_registry
from iochub.settings import Settings, get_settings

HERE = Path(__file__).resolve().parent
EXPECTED = "expected.yaml"
EXPECT_KEYS = {
    "raises",
    "items",
    "rows",
    "sums",
    "values",
    "quarantine",
    "undeclared_tables",
    "absent",
}
ITEM_KEYS = {"in", "landed", "quarantined", "empty"}
ROW_KEYS = {"in", "landed", "quarantined"}


def _case_dirs() -> list[Path]:
    """Every ``<format>/<case>/`` folder (a case without ``expected.yaml`` fails, not skips)."""
    return sorted(
        case
        for fmt in HERE.iterdir()
        if fmt.is_dir() and not fmt.name.startswith(("_", "."))
        for case in fmt.iterdir()
        if case.is_dir() and not case.name.startswith(("_", "."))
    )


CASES = _case_dirs()


@dataclass
class Lake:
    """What one run left in the lake, read back with DuckDB/pyarrow."""

    manifest: Manifest
    landed: dict[str, pa.Table] = field(default_factory=dict)  # lake table → all landed rows
    quarantine: pa.Table | None = None


def _read_parquet(paths: list[Path]) -> pa.Table:
    con = duckdb.connect()
    try:
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
        query = f"SELECT * FROM read_parquet([{files}], union_by_name = true)"
        return con.execute(query).to_arrow_table()
    finally:
        con.close()


def _read_lake(settings: Settings, source: str) -> Lake:
    manifests = read_manifests(settings, source)
    assert len(manifests) == 1, f"expected one committed manifest, found {len(manifests)}"
    lake = Lake(manifests[0])
    raw = settings.raw_dir / source
    for folder in sorted(p for p in raw.iterdir() if p.is_dir()) if raw.exists() else []:
        parts = [p for p in sorted(folder.rglob("*.parquet")) if p.name != PLACEHOLDER]
        if parts:
            lake.landed[folder.name] = _read_parquet(parts)
    quarantined = sorted((settings.quarantine_dir / source).rglob("*.parquet"))
    if quarantined:
        lake.quarantine = _read_parquet(quarantined)
    return lake


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _column_text(table: pa.Table, name: str) -> list[str | None]:
    if name not in table.column_names:
        return [None] * table.num_rows
    return [_text(v) for v in table.column(name).to_pylist()]


# --- invariants, checked for every case -----------------------------------------------------


def _invariants(lake: Lake, files_kind: bool) -> list[str]:
    m = lake.manifest
    problems = []
    if m.items_in != m.items_landed + m.items_quarantined:
        problems.append(
            f"items: {m.items_in} in != {m.items_landed} landed + {m.items_quarantined} quarantined"
        )
    for table in sorted(set(m.rows_in) | set(m.rows_landed) | set(m.rows_quarantined)):
        rows_in = m.rows_in.get(table, 0)
        landed, quarantined = m.rows_landed.get(table, 0), m.rows_quarantined.get(table, 0)
        if rows_in != landed + quarantined:
            problems.append(
                f"rows {table}: {rows_in} in != {landed} landed + {quarantined} quarantined"
            )
    # The manifest and the lake tell the same story.
    for table in sorted(set(m.rows_landed) | set(lake.landed)):
        in_lake = lake.landed[table].num_rows if table in lake.landed else 0
        if m.rows_landed.get(table, 0) != in_lake:
            problems.append(
                f"rows {table}: manifest says {m.rows_landed.get(table, 0)} landed, "
                f"the lake holds {in_lake}"
            )
    row_level = Counter(
        t for t in (_column_text(lake.quarantine, "table_name") if lake.quarantine else []) if t
    )
    for table in sorted(set(m.rows_quarantined) | set(row_level)):
        if m.rows_quarantined.get(table, 0) != row_level.get(table, 0):
            problems.append(
                f"rows {table}: manifest says {m.rows_quarantined.get(table, 0)} quarantined, "
                f"the quarantine holds {row_level.get(table, 0)}"
            )
    whole = (
        sum(1 for t in _column_text(lake.quarantine, "table_name") if t is None)
        if lake.quarantine
        else 0
    )
    if whole != m.items_quarantined:
        problems.append(
            f"items: manifest says {m.items_quarantined} quarantined, the quarantine holds "
            f"{whole} whole items"
        )
    statuses = Counter(status.split(":", 1)[0] for status in m.items.values())
    if statuses["landed"] + statuses["empty"] != m.items_landed:
        problems.append(f"items: statuses {dict(statuses)} but items_landed {m.items_landed}")
    if statuses["quarantined"] != m.items_quarantined:
        problems.append(f"items: statuses {dict(statuses)} but quarantined {m.items_quarantined}")
    if statuses["empty"] != m.items_empty:
        problems.append(
            f"items: {statuses['empty']} recorded empty but items_empty {m.items_empty}"
        )
    if files_kind:
        problems += _empty_items(lake)
    return problems


def _empty_items(lake: Lake) -> list[str]:
    """A file read whole that carried no data row (landed or quarantined) is recorded empty, and
    a file recorded empty carried none (files kinds: rows name their file in _source_file)."""
    rows: Counter[str] = Counter()
    for table in lake.landed.values():
        rows.update(v for v in _column_text(table, "_source_file") if v)
    if lake.quarantine is not None:
        for table_name, item in zip(
            _column_text(lake.quarantine, "table_name"),
            _column_text(lake.quarantine, "item"),
            strict=True,
        ):
            if table_name and item:
                rows[item.rsplit(" key=", 1)[0]] += 1
    problems = []
    for status in lake.manifest.items.values():
        kind, _, rest = status.partition(":")
        if kind == "landed" and rows[rest] == 0:
            problems.append(f"{rest}: recorded landed but carried no data row (must be empty)")
        if kind == "empty" and rows[rest] != 0:
            problems.append(f"{rest}: recorded empty but {rows[rest]} of its rows are in the lake")
    return problems


# --- the case's own expectations ------------------------------------------------------------


def _items(lake: Lake, want: dict[str, int]) -> list[str]:
    m = lake.manifest
    got = {
        "in": m.items_in,
        "landed": m.items_landed,
        "quarantined": m.items_quarantined,
        "empty": m.items_empty,
    }
    wanted = {"in": 0, "landed": 0, "quarantined": 0, "empty": 0, **want}
    return [] if got == wanted else [f"items: expected {wanted}, got {got}"]


def _rows(lake: Lake, want: dict[str, dict[str, int]]) -> list[str]:
    m = lake.manifest
    problems = []
    for table in sorted(set(want) | set(m.rows_in) | set(m.rows_landed) | set(m.rows_quarantined)):
        got = {
            "in": m.rows_in.get(table, 0),
            "landed": m.rows_landed.get(table, 0),
            "quarantined": m.rows_quarantined.get(table, 0),
        }
        wanted = {"in": 0, "landed": 0, "quarantined": 0, **want.get(table, {})}
        if got != wanted:
            problems.append(f"rows {table}: expected {wanted}, got {got}")
    return problems


def _sums(lake: Lake, want: dict[str, dict[str, float | None]]) -> list[str]:
    problems = []
    con = duckdb.connect()
    try:
        for table, columns in sorted(want.items()):
            landed = lake.landed.get(table)
            for column, expected in sorted(columns.items()):
                got: float | None = None
                if landed is not None and column in landed.column_names:
                    con.register("landed", landed)
                    q = '"' + column.replace('"', '""') + '"'
                    row = con.execute(f"SELECT SUM(TRY_CAST({q} AS DOUBLE)) FROM landed").fetchone()
                    got = None if row is None else row[0]
                    con.unregister("landed")
                same = (
                    got is None and expected is None
                    if got is None or expected is None
                    else math.isclose(got, float(expected), rel_tol=1e-9, abs_tol=1e-6)
                )
                if not same:
                    problems.append(f"sum {table}.{column}: expected {expected}, got {got}")
    finally:
        con.close()
    return problems


def _values(lake: Lake, want: dict[str, list[dict[str, dict[str, str | None]]]]) -> list[str]:
    problems = []
    for table, picks in sorted(want.items()):
        landed = lake.landed.get(table)
        rows = landed.to_pylist() if landed is not None else []
        for pick in picks:
            where = pick["where"]
            matches = [r for r in rows if all(_text(r.get(k)) == v for k, v in where.items())]
            if len(matches) != 1:
                problems.append(f"values {table} where {where}: {len(matches)} landed rows match")
                continue
            for column, expected in pick["equals"].items():
                got = _text(matches[0].get(column))
                if got != expected:
                    problems.append(
                        f"values {table} where {where}: {column} expected {expected!r}, got {got!r}"
                    )
    return problems


def _quarantine(lake: Lake, want: list[dict[str, Any]]) -> list[str]:
    got: Counter[tuple[str | None, str | None]] = Counter()
    if lake.quarantine is not None:
        got.update(
            zip(
                _column_text(lake.quarantine, "table_name"),
                _column_text(lake.quarantine, "reason"),
                strict=True,
            )
        )
    wanted: Counter[tuple[str | None, str | None]] = Counter()
    for entry in want:
        wanted[(entry.get("table"), entry["reason"])] += int(entry["count"])
    if got == wanted:
        return []
    details = (
        sorted(
            {
                f"{t}/{r}: {d}"
                for t, r, d in zip(
                    _column_text(lake.quarantine, "table_name"),
                    _column_text(lake.quarantine, "reason"),
                    _column_text(lake.quarantine, "detail"),
                    strict=True,
                )
            }
        )
        if lake.quarantine is not None
        else []
    )
    return [
        f"quarantine: expected {_show(wanted)}, got {_show(got)}"
        + (f" (details: {'; '.join(details)[:1500]})" if details else "")
    ]


def _show(counts: Counter[tuple[str | None, str | None]]) -> str:
    return (
        "{" + ", ".join(f"({t}, {r}): {n}" for (t, r), n in sorted(counts.items(), key=str)) + "}"
    )


def _undeclared(lake: Lake, want: dict[str, int]) -> list[str]:
    got = dict(lake.manifest.undeclared_tables)
    return [] if got == want else [f"undeclared_tables: expected {want}, got {got}"]


def _absent(lake: Lake, strings: list[str]) -> list[str]:
    """Clear personal data the case carries must appear in no landed value and in no record
    kept by row-level quarantine (whole files are kept as sent, by design)."""
    texts: list[str] = []
    for table in lake.landed.values():
        for column in table.column_names:
            texts += [v for v in _column_text(table, column) if v]
    if lake.quarantine is not None:
        for table_name, raw in zip(
            _column_text(lake.quarantine, "table_name"),
            lake.quarantine.column("raw_content").to_pylist(),
            strict=True,
        ):
            if table_name and raw:
                texts.append(bytes(raw).decode("utf-8", errors="replace"))
    return [f"absent: {s!r} found in the lake" for s in strings if any(s in t for t in texts)]


def _check_expectation(case: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """The expectation file itself: known keys, a source, text values (never YAML numbers)."""
    assert isinstance(spec, dict) and "source" in spec, f"{case}/{EXPECTED}: needs `source:`"
    expect = spec.get("expect") or {}
    unknown = set(expect) - EXPECT_KEYS
    assert not unknown, f"{case}/{EXPECTED}: unknown keys under expect: {sorted(unknown)}"
    assert not set(expect.get("items", {})) - ITEM_KEYS, f"{case}: items keys {ITEM_KEYS}"
    for table, counts in (expect.get("rows") or {}).items():
        assert not set(counts) - ROW_KEYS, f"{case}: rows.{table} keys are {ROW_KEYS}"
    for table, picks in (expect.get("values") or {}).items():
        for pick in picks:
            assert set(pick) == {"where", "equals"}, f"{case}: values.{table} needs where/equals"
            for value in [*pick["where"].values(), *pick["equals"].values()]:
                assert value is None or isinstance(value, str), (
                    f"{case}: values.{table}: write {value!r} as a quoted string (landed text)"
                )
    return expect


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected_file = case / EXPECTED
    assert expected_file.is_file(), f"{case} has no {EXPECTED}"
    spec = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    expect = _check_expectation(case, spec)

    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    sources = load_registry(settings)
    assert spec["source"] in sources, f"{case}: no registered source {spec['source']!r}"
    source: Source = sources[spec["source"]]
    assert source.connection.env, f"{source.name}: the runner points an env variable at the inbox"
    inbox = tmp_path / "inbox"
    shutil.copytree(
        case, inbox, ignore=lambda folder, names: [EXPECTED] if folder == str(case) else []
    )
    monkeypatch.setenv(source.connection.env, str(inbox))

    if expect.get("raises", False):
        with pytest.raises(Exception):  # noqa: B017 - any failure, recorded in the lake
            run_extract(source.name, settings)
        assert not read_manifests(settings, source.name), "a failed run committed a manifest"
        assert list((settings.failure_dir / source.name).glob("*.json")), "no failure record"
        return

    run_extract(source.name, settings)  # invariant: never raises on a file drop
    lake = _read_lake(settings, source.name)
    problems = _invariants(lake, files_kind=source.kind == "files")
    problems += _items(lake, expect.get("items") or {})
    problems += _rows(lake, expect.get("rows") or {})
    problems += _sums(lake, expect.get("sums") or {})
    problems += _values(lake, expect.get("values") or {})
    problems += _quarantine(lake, expect.get("quarantine") or [])
    problems += _undeclared(lake, expect.get("undeclared_tables") or {})
    problems += _absent(lake, expect.get("absent") or [])
    assert not problems, f"{case.parent.name}/{case.name}:\n  " + "\n  ".join(problems)
