"""The ``files`` kind: file drops (an inbox folder tree) landed into the lake.

New files are found by content hash, so a file re-sent under another name, or the same inbox
scanned twice, is not loaded twice, while a corrected file (new content) is. Each file is read
by the format the registry declares (``connectors.formats``); a file that cannot be read at all is
quarantined whole with its reason, and every record it yields goes through the landing contract.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from connectors.formats import UnreadableFile
from connectors.formats.excel import read_workbook
from connectors.formats.tabular import Record, read_csv, read_json, read_jsonl
from connectors.formats.xml130 import Xml130Error, decode_file
from connectors.kinds.base import ExtractRun, SourceUnavailable
from connectors.landing import records_to_arrow
from connectors.registry import FilesSpec, Source, TableSpec

log = logging.getLogger(__name__)

# A reader turns one file into records for the tables it feeds (by table name).
Reader = Callable[[bytes, list[TableSpec], FilesSpec], dict[str, list[Record]]]


def read_xml130(
    content: bytes, tables: list[TableSpec], spec: FilesSpec
) -> dict[str, list[Record]]:
    record_paths = {table.name.upper(): table.record_path or "." for table in tables}
    try:
        decoded = decode_file(content, record_paths)
    except Xml130Error as exc:
        raise UnreadableFile(exc.reason, exc.detail) from exc
    return {table.name: decoded.tables[table.name.upper()] for table in tables}


def _declared(table: TableSpec) -> list[str]:
    return [*table.columns, *table.pii, *table.required]


def read_excel(content: bytes, tables: list[TableSpec], spec: FilesSpec) -> dict[str, list[Record]]:
    return read_workbook(content, {t.name: (t.sheet, _declared(t)) for t in tables})


def _one_table_format(
    read: Callable[[bytes, TableSpec, FilesSpec], list[Record]],
) -> Reader:
    """A format with one record set per file: the file feeds the tables its path matched
    (one in practice); each gets its own copy of the records, as lineage is added per table."""

    def reader(content: bytes, tables: list[TableSpec], spec: FilesSpec) -> dict[str, list[Record]]:
        if not tables:
            return {}
        records = read(content, tables[0], spec)
        return {t.name: [dict(r) for r in records] for t in tables}

    return reader


READERS: dict[str, Reader] = {
    "xml130": read_xml130,
    "excel": read_excel,
    "csv": _one_table_format(lambda c, t, s: read_csv(c, s.encoding, s.delimiter)),
    "json": _one_table_format(lambda c, t, s: read_json(c, s.encoding, t.record_path)),
    "jsonl": _one_table_format(lambda c, t, s: read_jsonl(c, s.encoding)),
}


def _tables_for(source: Source, relative: str) -> list[TableSpec]:
    """Tables a file feeds: those whose own pattern matches it, else all (one file, many
    tables, as in XML 130)."""
    own = [t for t in source.tables if t.pattern and Path(relative).match(t.pattern)]
    return own or [t for t in source.tables if not t.pattern]


# Below this many files a worker's start-up (a second of imports in a fresh interpreter) costs
# more than decoding in parallel saves.
POOL_MIN_FILES = 32


@dataclass(frozen=True)
class _NewFile:
    item: str  # path relative to the inbox, as lineage and in the manifest
    sha: str
    content: bytes
    tables: list[TableSpec]


def _decode(new: _NewFile, spec: FilesSpec, run_id: str) -> dict[str, pa.Table] | UnreadableFile:
    """One file as Arrow tables with lineage, or why it cannot be read (runs in a worker on big
    inboxes; an exception is returned rather than raised so it crosses processes as it is)."""
    try:
        tables = READERS[spec.format](new.content, new.tables, spec)
    except UnreadableFile as exc:
        return exc
    lineage = {"_source_file": new.item, "_source_sha256": new.sha, "_run_id": run_id}
    landed = {}
    for table in new.tables:
        records = tables.get(table.name, [])
        for record in records:
            record.update(lineage)
        landed[table.name] = records_to_arrow(records)
    return landed


def _new_files(run: ExtractRun, inbox: Path, paths: list[Path]) -> Iterator[_NewFile]:
    """Files not handled before, in inbox order; a content seen twice is read once."""
    handled: set[str] = set()
    for path in paths:
        content = path.read_bytes()
        sha = hashlib.sha256(content).hexdigest()
        if sha in handled or run.item_seen(sha):
            continue
        handled.add(sha)
        item = path.relative_to(inbox).as_posix()
        yield _NewFile(item, sha, content, _tables_for(run.source, item))


def _decoded(
    run: ExtractRun, new_files: Iterator[_NewFile], parallel: bool
) -> Iterator[tuple[_NewFile, dict[str, pa.Table] | UnreadableFile]]:
    """Decode files in inbox order, in worker processes when ``parallel``.

    Decoding is pure CPU per file and dominates landing a big inbox (XML 130 at scale 1 is
    36 GB of base64-wrapped XML), so workers decode while this process lands. A few files stay
    in flight per worker, which keeps memory bounded and the landing order that of the inbox.
    """
    spec = run.source.files
    assert spec is not None
    if not parallel:
        for new in new_files:
            yield new, _decode(new, spec, run.run_id)
        return
    workers = run.settings.extract_workers
    # spawn, not fork: this process runs threads (the progress display, Airflow's supervisor).
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        in_flight: deque[tuple[_NewFile, Future[dict[str, pa.Table] | UnreadableFile]]] = deque()
        for new in new_files:
            in_flight.append((new, pool.submit(_decode, new, spec, run.run_id)))
            if len(in_flight) > 2 * workers:
                done, future = in_flight.popleft()
                yield done, future.result()
        while in_flight:
            done, future = in_flight.popleft()
            yield done, future.result()


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
    for new_file, outcome in _decoded(run, _new_files(run, inbox, paths), parallel):
        new += 1
        if isinstance(outcome, UnreadableFile):
            run.item_quarantined(
                new_file.sha, new_file.item, outcome.reason, outcome.detail, new_file.content
            )
            continue
        for table in new_file.tables:
            run.land(table, outcome[table.name])
        run.item_landed(new_file.sha, new_file.item)
    log.info(
        "%s: %d new file(s) of %d in %s%s",
        source.name,
        new,
        len(paths),
        inbox,
        f" ({run.settings.extract_workers} decoding processes)" if parallel else "",
    )
