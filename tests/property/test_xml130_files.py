"""Property tests: XML 130 files written from the texts, mutated, read through the real path.

Two levels, sharing one generator (``xml130_files``):
- the reader of the ``files`` kind (``connectors.kinds.files.read_xml130``) on one file: every
  record exactly as generated (NFC, empty → null), or the whole file unreadable with the reason
  its mutation calls for — never another exception;
- a whole extract (``connectors.extract.run_extract``, landing contract, Parquet, manifest) of an
  inbox of such files in a throwaway IOC_HOME: each file lands every record with the values
  generated (personal data pseudonymised as the README says) or is quarantined whole with the
  right reason; nothing is lost and undeclared table types are counted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.extract import run_extract
from connectors.formats import UnreadableFile
from connectors.kinds.files import read_xml130
from connectors.landing import read_manifests
from connectors.registry import PiiTreatment, Source, TableSpec, load_registry
from iochub.settings import get_settings
from tests.property.xml130_files import ClaimFile, claim_files

SOURCE = "health_xml130"
PROPERTY = settings(
    deadline=None,
    database=None,  # nothing written into the working tree; failures print a reproduce blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _source() -> Source:
    """The real declaration (read once; not a fixture, so failures do not print all of it)."""
    return load_registry(get_settings())[SOURCE]


def _declared(source: Source) -> dict[str, TableSpec]:
    """Declared tables by their LOAIHOSO (xml1 → XML1)."""
    return {t.name.upper(): t for t in source.tables}


# --- level 1: the reader ----------------------------------------------------------------------


@settings(PROPERTY, max_examples=300)
@given(claim=claim_files("one.xml", first_lk=1))
def test_reader_gives_every_record_or_the_reason(claim: ClaimFile) -> None:
    source = _source()
    assert source.files is not None
    content = claim.content()
    try:
        read = read_xml130(content, list(source.tables), source.files)
    except UnreadableFile as exc:
        assert claim.fate() is not None, f"a valid file was refused: {exc}"
        assert exc.reason == claim.fate(), exc
        return
    assert claim.fate() is None, f"expected {claim.fate()}, the file was read"
    declared = _declared(source)
    for loai, spec in declared.items():
        got = read.tables[spec.name]
        want = claim.records(loai)
        assert len(got) == len(want), f"{loai}: {len(got)} records read, {len(want)} written"
        for record, expected in zip(got, want, strict=True):
            record = {k: v for k, v in record.items() if k != "ZZ_MO_RONG"}
            lineage = {"_facility_code": "87001", "_file_created_on": "20250720"}
            assert record == {**expected, **lineage}
    undeclared = Counter(
        [d.table for e in claim.episodes for d in e if d.table not in declared]
        + claim.unknown_tables
    )
    assert read.undeclared == dict(undeclared)


# --- level 2: a whole extract -------------------------------------------------------------------


@st.composite
def inboxes(draw: st.DrawFn) -> list[ClaimFile]:
    """1–4 files with MA_LK unique across the inbox; some in a sub-folder."""
    count = draw(st.integers(1, 4))
    names = [f"{'ngay_20/' if i % 2 else ''}87001_20250720_{i:04d}.xml" for i in range(count)]
    return [draw(claim_files(name, first_lk=100 * (i + 1))) for i, name in enumerate(names)]


def _pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()


def _landed(lake: Path, table: str) -> list[dict[str, Any]]:
    parts = [p for p in (lake / table).rglob("*.parquet") if not p.name.startswith("_")]
    if not parts:
        return []
    con = duckdb.connect()
    try:
        files = ", ".join(f"'{p}'" for p in parts)
        rows = con.execute(f"SELECT * FROM read_parquet([{files}], union_by_name = true)")
        names = [d[0] for d in rows.description]
        return [dict(zip(names, r, strict=True)) for r in rows.fetchall()]
    finally:
        con.close()


def _expected_value(spec: TableSpec, tag: str, value: str | None, key: bytes) -> object:
    treatment = spec.pii.get(tag)
    if value is None:
        return None
    if treatment is PiiTreatment.HMAC:
        return _pseudonym(key, value)
    if treatment is PiiTreatment.YEAR:
        return value[:4]
    return value


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set variables for one example (a function-scoped monkeypatch cannot span examples)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@settings(PROPERTY, max_examples=12)
@given(files=inboxes())
def test_extract_lands_every_record_or_quarantines_the_file(files: list[ClaimFile]) -> None:
    source = _source()
    declared = _declared(source)
    with tempfile.TemporaryDirectory(prefix="iochub-prop-") as tmp:
        inbox = Path(tmp) / "inbox"
        first: dict[bytes, ClaimFile] = {}  # the extract reads a content once, in path order
        for claim in sorted(files, key=lambda c: c.name):
            path = inbox / claim.name
            path.parent.mkdir(parents=True, exist_ok=True)
            content = claim.content()
            path.write_bytes(content)
            first.setdefault(content, claim)
        with _environment(IOC_HOME=str(Path(tmp) / "home"), IOC_HEALTH_XML130_INBOX=str(inbox)):
            home = get_settings()
            run_extract(SOURCE, home)  # never raises on a file drop

        (manifest,) = read_manifests(home, SOURCE)
        counted = list(first.values())
        fates = {c.name: c.fate() for c in counted}
        statuses = {
            status.split(":")[-1]: status.split(":")[0] for status in manifest.items.values()
        }
        quarantined_files = {
            status.split(":")[-1]: status.split(":")[1]
            for status in manifest.items.values()
            if status.startswith("quarantined:")
        }
        assert manifest.items_in == len(counted)
        assert manifest.items_quarantined == sum(f is not None for f in fates.values())
        assert manifest.items_landed == sum(f is None for f in fates.values())
        assert manifest.items_empty == 0
        for claim in counted:
            if claim.fate() is None:
                assert statuses[claim.name] == "landed", (claim.name, manifest.items)
            else:
                assert quarantined_files.get(claim.name) == claim.fate(), (
                    claim.name,
                    manifest.items,
                )

        landing = [c for c in counted if c.fate() is None]
        undeclared: Counter[str] = Counter()
        for claim in landing:
            undeclared.update(
                [d.table for e in claim.episodes for d in e if d.table not in declared]
                + claim.unknown_tables
            )
        assert manifest.undeclared_tables == dict(undeclared)

        key = home.pii_key
        for loai, spec in declared.items():
            want = [(c.name, r) for c in landing for r in c.records(loai)]
            got = _landed(home.raw_dir / SOURCE, spec.name)
            assert manifest.rows_in.get(spec.name, 0) == len(want)
            assert manifest.rows_landed.get(spec.name, 0) == len(want) == len(got)
            assert manifest.rows_quarantined.get(spec.name, 0) == 0
            ident = ["MA_LK"] if loai == "XML1" else ["MA_LK", "STT"]
            by_key = {tuple(r[k] for k in ident): r for r in got}
            for name, record in want:
                row = by_key[tuple(record[k] for k in ident)]
                assert row["_source_file"] == name
                for tag in spec.columns:
                    if tag not in record and spec.pii.get(tag) is not PiiTreatment.DROP:
                        assert row.get(tag) is None, (loai, tag, row.get(tag))
                for tag, value in record.items():
                    if tag not in spec.columns and tag not in spec.pii:
                        continue  # not declared: the drift policy's business
                    if spec.pii.get(tag) is PiiTreatment.DROP:
                        assert tag not in row
                        continue
                    expected = _expected_value(spec, tag, value, key)
                    assert row.get(tag) == expected, (loai, record["MA_LK"], tag, value)
