"""The ``files`` kind: file drops (an inbox folder tree) landed into the lake.

New files are found by content hash, so a file re-sent under another name, or the same inbox
scanned twice, is not loaded twice, while a corrected file (new content) is; a file whose size
and modification time are unchanged since a run read it is not opened again. Each file is read
by the format the registry declares (``connectors.formats``); a file that cannot be read at all is
quarantined whole with its reason, and every record it yields goes through the landing contract.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from connectors.formats import FileRecords, Part, UnreadableFile
from connectors.formats.excel import HEADER_SEARCH_ROWS, SheetSpec, read_workbook
from connectors.formats.headers import header_key
from connectors.formats.tabular import Record, read_csv_table, read_json, read_jsonl
from connectors.formats.xml130 import Xml130Error, decode_file
from connectors.kinds.base import ExtractRun, SourceUnavailable
from connectors.landing import records_to_arrow
from connectors.registry import DriftAction, FilesSpec, Source, TableSpec

log = logging.getLogger(__name__)

# A reader turns one file into records for the tables it feeds (by table name).
Reader = Callable[[bytes, list[TableSpec], FilesSpec], FileRecords]


def read_xml130(content: bytes, tables: list[TableSpec], spec: FilesSpec) -> FileRecords:
    record_paths = {table.name.upper(): table.record_path or "." for table in tables}
    try:
        decoded = decode_file(content, record_paths)
    except Xml130Error as exc:
        raise UnreadableFile(exc.reason, exc.detail) from exc
    return FileRecords(
        {table.name: decoded.tables[table.name.upper()] for table in tables}, decoded.undeclared
    )


def _spellings(table: TableSpec) -> dict[str, str]:
    """The header key (``header_key``) of every spelling a column of ``table`` is accepted
    under → the name it lands as: the declared names (personal-data and shorthand-required
    ones too), former names (renamed by the contract) and each column's declared ``headers``.
    A key two declared names share maps to neither: those are told apart by exact name."""
    keys: dict[str, str | None] = {}
    for name in dict.fromkeys([*table.columns, *table.pii, *table.required]):
        key = header_key(name)
        keys[key] = name if keys.get(key, name) == name else None
    for old in table.renames():
        keys.setdefault(header_key(old), old)
    for name, column in table.columns.items():
        for spelling in column.headers:
            keys.setdefault(header_key(spelling), name)
    return {key: name for key, name in keys.items() if key and name}


def _sheet_spec(table: TableSpec) -> SheetSpec:
    return SheetSpec(
        patterns=tuple(p for p in [table.sheet, *table.sheets] if p),
        columns=_spellings(table),
        skip_rows=tuple(table.layout.skip_rows),
        end_rows=tuple(table.layout.end_rows),
        ignore=frozenset(header_key(s) for s in table.layout.ignore_columns),
    )


def read_excel(content: bytes, tables: list[TableSpec], spec: FilesSpec) -> FileRecords:
    return read_workbook(content, {t.name: _sheet_spec(t) for t in tables})


def _as_declared(
    table: TableSpec, columns: list[str], records: list[Record]
) -> tuple[list[str], list[Record]]:
    """A CSV/JSON file's columns and a copy of its records, with a column whose name is not
    declared but is one of a declared column's spellings ("MA_TINH", "Mã tỉnh" for ``ma_tinh``)
    under the declared name, unless the file also has the declared name itself."""
    spellings = _spellings(table)
    exact = set(spellings.values())
    present = set(columns)
    mapping: dict[str, str] = {}
    for name in columns:
        landed = spellings.get(header_key(name))
        if name in exact or landed is None or landed in present or landed in mapping.values():
            continue
        mapping[name] = landed
    if not mapping:
        return columns, [dict(r) for r in records]
    renamed = [{mapping.get(k, k): v for k, v in r.items()} for r in records]
    return [mapping.get(c, c) for c in columns], renamed


def _one_table_format(
    read: Callable[[bytes, TableSpec, FilesSpec], tuple[list[str] | None, list[Record]]],
) -> Reader:
    """A format with one record set per file: the file feeds the tables its path matched
    (one in practice); each gets its own copy of the records, as lineage is added per table.
    The file's columns (a CSV's header; the keys of a JSON file's records) are reported as its
    one part, for the declared columns to be checked."""

    def reader(content: bytes, tables: list[TableSpec], spec: FilesSpec) -> FileRecords:
        if not tables:
            return FileRecords({})
        header, records = read(content, tables[0], spec)
        if header is None and records:
            header = list(dict.fromkeys(key for record in records for key in record))
        result = FileRecords({})
        for table in tables:
            columns, result.tables[table.name] = _as_declared(table, header or [], records)
            if header is not None:
                result.parts.append(Part(table.name, None, columns))
        return result

    return reader


READERS: dict[str, Reader] = {
    "xml130": read_xml130,
    "excel": read_excel,
    "csv": _one_table_format(lambda c, t, s: read_csv_table(c, s.encoding, s.delimiter)),
    "json": _one_table_format(lambda c, t, s: (None, read_json(c, s.encoding, t.record_path))),
    "jsonl": _one_table_format(lambda c, t, s: (None, read_jsonl(c, s.encoding))),
}


def _spelled(table: TableSpec, name: str) -> str:
    """A column as the sender writes its header: its first declared spelling, else its name."""
    column = table.columns.get(name)
    return column.headers[0] if column is not None and column.headers else name


def _missing(table: TableSpec, columns: list[str]) -> list[str]:
    """The required declared columns ``columns`` lacks (under their name or a former one)."""
    present = set(columns)
    present |= {new for old, new in table.renames().items() if old in present}
    return [name for name in table.required_columns() if name not in present]


def _check_columns(new: _NewFile, parts: list[Part]) -> UnreadableFile | None:
    """Every part of the file (each sheet, or the file) against its table's declared columns,
    before anything of the file lands: a part without a header, or lacking required columns
    (unless the table's drift policy lets removed columns ``evolve``), makes the file
    unreadable, with every problem of every part in one message that names the file, the sheet
    and the headers as the sender writes them. The file alone is quarantined; the other files
    of the run land (the contract would otherwise refuse, or fail on, the whole gathered batch).

    Formats with a header report parts (Excel, CSV; JSON its records' keys). XML 130 reports
    none: an XML record leaves out the element of a value it does not have, so an absent element
    is a missing value, for the contract to quarantine that record alone."""
    tables = {fed.name: fed for fed in new.tables}
    headerless: dict[str, list[str]] = {}  # where → the headers expected there
    missing: dict[str, list[str]] = {}  # where → the headers it lacks
    for part in parts:
        table = tables.get(part.table)
        if table is None:
            continue
        where = f'sheet "{part.sheet}"' if part.sheet is not None else ""
        if part.columns is None:
            names = table.required_columns()
        elif table.drift.removed is DriftAction.EVOLVE:
            continue
        else:
            names = _missing(table, part.columns)
        found = headerless if part.columns is None else missing
        for name in names:
            spelled = f'"{_spelled(table, name)}"'
            if spelled not in found.setdefault(where, []):
                found[where].append(spelled)
    missing = {where: lacks for where, lacks in missing.items() if lacks}
    if not headerless and not missing:
        return None
    problems = []
    for where in dict.fromkeys([*headerless, *missing]):
        what = []
        if where in headerless:
            expected = headerless[where]
            what.append(
                f"no header row in its first {HEADER_SEARCH_ROWS} rows"
                + (f" (expected: {', '.join(expected)})" if expected else "")
            )
        if where in missing:
            what.append("missing column(s) " + ", ".join(missing[where]))
        problems.append(f"{where}: " * bool(where) + "; ".join(what))
    reason = "missing_columns" if missing else "no_header"
    return UnreadableFile(reason, f"{new.item}: " + "; ".join(problems))


def _tables_for(source: Source, relative: str) -> list[TableSpec]:
    """Tables a file feeds: those whose own pattern matches it, else all (one file, many
    tables, as in XML 130)."""
    own = [t for t in source.tables if t.pattern and Path(relative).match(t.pattern)]
    return own or [t for t in source.tables if not t.pattern]


# Below this many files a worker's start-up (a second of imports in a fresh interpreter) costs
# more than decoding in parallel saves.
POOL_MIN_FILES = 32


@dataclass
class _Decoded:
    """One file as Arrow tables with lineage, and what its format skipped."""

    tables: dict[str, pa.Table]
    undeclared: dict[str, int]
    declared_parts: int  # parts of the file a declared table reads (sheets with a header, …)


@dataclass(frozen=True)
class _NewFile:
    item: str  # path relative to the inbox, as lineage and in the manifest
    path: Path
    tables: list[TableSpec]


@dataclass(frozen=True)
class _Read:
    """One file read, hashed and decoded (in a worker on big inboxes)."""

    sha: str
    outcome: _Decoded | UnreadableFile
    content: bytes | None  # kept for the quarantine when the file is unreadable


def _decode(
    new: _NewFile, sha: str, content: bytes, spec: FilesSpec, run_id: str
) -> _Decoded | UnreadableFile:
    """One file as Arrow tables with lineage, or why it cannot be read (an exception is
    returned rather than raised so it crosses processes as it is)."""
    try:
        read = READERS[spec.format](content, new.tables, spec)
    except UnreadableFile as exc:
        return exc
    except Exception as exc:  # a reader's library failing on odd bytes: still this file's fault
        log.exception("%s: the %s reader failed", new.item, spec.format)
        return UnreadableFile("unreadable", f"{type(exc).__name__}: {exc}")
    wrong = _check_columns(new, read.parts)
    if wrong is not None:
        return wrong
    lineage = {"_source_file": new.item, "_source_sha256": sha, "_run_id": run_id}
    with_header = {part.table for part in read.parts}
    landed = {}
    for table in new.tables:
        records = read.tables.get(table.name, [])
        for record in records:
            record.update(lineage)
        arrow = records_to_arrow(records)
        if records and table.name not in with_header:
            # Records without a header (XML 130): an element no record carries is a value each
            # record lacks (missing_required, row by row), not a column the file dropped.
            for name in _missing(table, arrow.column_names):
                arrow = arrow.append_column(name, pa.nulls(arrow.num_rows, pa.string()))
        landed[table.name] = arrow
    return _Decoded(landed, read.undeclared, len(read.parts))


def _read(new: _NewFile, spec: FilesSpec, run_id: str) -> _Read:
    """Read, hash and decode one file. In the worker, not in the landing process: reading and
    hashing 36 GB and sending it through a pipe took a fifth of the landing process's time at
    scale 1, and that process (the landing contract) is the one the others wait for."""
    content = new.path.read_bytes()
    sha = hashlib.sha256(content).hexdigest()
    outcome = _decode(new, sha, content, spec, run_id)
    return _Read(sha, outcome, content if isinstance(outcome, UnreadableFile) else None)


def _new_files(run: ExtractRun, inbox: Path, paths: list[Path]) -> Iterator[_NewFile]:
    """Files not read by an earlier run, in inbox order.

    A file is known by its content hash (checked in ``extract_files`` once it is read); but
    finding a day's new files that way reads and hashes the whole inbox on every run (36 GB of
    XML 130 at scale 1), so a file whose size and modification time are those a committed run
    read is not opened again (a file rewritten in place gets a new modification time;
    ``--full-refresh`` reads everything)."""
    read_before = run.state.files
    for path in paths:
        item = path.relative_to(inbox).as_posix()
        stat = path.stat()
        signature = f"{stat.st_size}:{stat.st_mtime_ns}"
        if read_before.get(item) == signature:
            continue
        run.manifest.seen_files[item] = signature
        yield _NewFile(item, path, _tables_for(run.source, item))


@contextmanager
def _main_script_not_rerun() -> Iterator[None]:
    """While the decoding pool lives, spawned workers do not run this process's main script.

    A spawned process first runs the parent's ``__main__`` script (as ``__mp_main__``), then
    unpickles its task. Under Airflow that script is ``airflow``, and importing Airflow inside a
    task's environment fails (the task runner forbids the metadata database: "Could not parse
    SQLAlchemy URL"), so every worker died and the XML 130 extract failed through the scheduler.
    The workers need nothing from ``__main__`` (``_decode`` is imported by name), so neither its
    path nor, for ``python -m``, its module name is handed to them.
    """
    main = sys.modules["__main__"]
    hidden = {name: getattr(main, name) for name in ("__file__", "__spec__") if hasattr(main, name)}
    main.__spec__ = None
    if "__file__" in hidden:
        del main.__file__
    try:
        yield
    finally:
        for name, value in hidden.items():
            setattr(main, name, value)


def _decoded(
    run: ExtractRun, new_files: Iterator[_NewFile], parallel: bool
) -> Iterator[tuple[_NewFile, _Read]]:
    """Read and decode files in inbox order, in worker processes when ``parallel``.

    Decoding is pure CPU per file and dominates landing a big inbox (XML 130 at scale 1 is
    36 GB of base64-wrapped XML), so workers decode while this process lands. A few files stay
    in flight per worker, which keeps memory bounded and the landing order that of the inbox.
    """
    spec = run.source.files
    assert spec is not None
    if not parallel:
        for new in new_files:
            yield new, _read(new, spec, run.run_id)
        return
    workers = run.settings.extract_workers
    # spawn, not fork: this process runs threads (the progress display, Airflow's supervisor).
    pool_context = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    with _main_script_not_rerun(), pool_context as pool:
        in_flight: deque[tuple[_NewFile, Future[_Read]]] = deque()
        for new in new_files:
            in_flight.append((new, pool.submit(_read, new, spec, run.run_id)))
            if len(in_flight) > 2 * workers:
                done, future = in_flight.popleft()
                yield done, future.result()
        while in_flight:
            done, future = in_flight.popleft()
            yield done, future.result()


def _land(run: ExtractRun, new_file: _NewFile, read: _Read) -> None:
    outcome = read.outcome
    if isinstance(outcome, UnreadableFile):
        assert read.content is not None
        run.item_quarantined(read.sha, new_file.item, outcome.reason, outcome.detail, read.content)
        return
    rows = sum(outcome.tables[table.name].num_rows for table in new_file.tables)
    if rows == 0 and outcome.undeclared and not outcome.declared_parts:
        # Data, but none of it in a declared table (an XML 130 file of XML5 alone): kept
        # whole, never "landed, 0 rows". A workbook whose declared sheets are there but empty,
        # beside an instructions sheet, is empty.
        found = ", ".join(f"{part} ({count})" for part, count in sorted(outcome.undeclared.items()))
        expected = ", ".join(table.name.upper() for table in new_file.tables)
        run.item_quarantined(
            read.sha,
            new_file.item,
            "no_declared_table",
            f"{new_file.item} carries {found}; the declaration lands {expected}",
            new_file.path.read_bytes() if read.content is None else read.content,
        )
        return
    for table in new_file.tables:
        run.land(table, outcome.tables[table.name])
    run.undeclared(new_file.item, outcome.undeclared)
    run.item_landed(read.sha, new_file.item, rows)


def land_file(run: ExtractRun, item: str, content: bytes) -> None:
    """Read and land one file's content as ``item`` (a quarantined file being released)."""
    assert run.source.files is not None, "files sources declare a files: block"
    sha = hashlib.sha256(content).hexdigest()
    new_file = _NewFile(item, Path(item), _tables_for(run.source, item))
    outcome = _decode(new_file, sha, content, run.source.files, run.run_id)
    _land(run, new_file, _Read(sha, outcome, content))


def extract_files(run: ExtractRun) -> None:
    source = run.source
    assert source.files is not None, "files sources declare a files: block"
    inbox = Path(run.connection())
    if not inbox.is_dir():
        raise SourceUnavailable(
            f"{source.name}: folder {inbox} does not exist. Set {source.connection.env} to the "
            "folder the system drops files into (for the demo: `ioc sim generate`)."
        )
    if source.files.format not in READERS:
        raise SourceUnavailable(f"{source.name}: no reader for format {source.files.format}")
    paths = sorted(p for p in inbox.glob(source.files.pattern) if p.is_file())
    parallel = (
        run.settings.extract_workers > 1
        and len(paths) >= POOL_MIN_FILES
        # A daemonic process (some executors' task runners) may not start children.
        and not multiprocessing.current_process().daemon
    )
    new = 0
    handled: set[str] = set()
    for new_file, read in _decoded(run, _new_files(run, inbox, paths), parallel):
        if read.sha in handled or run.item_seen(read.sha):
            continue  # a content handled before (re-sent under another name): once only
        handled.add(read.sha)
        new += 1
        _land(run, new_file, read)
    log.info(
        "%s: %d new file(s) of %d in %s%s",
        source.name,
        new,
        len(paths),
        inbox,
        f" ({run.settings.extract_workers} decoding processes)" if parallel else "",
    )
