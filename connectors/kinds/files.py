"""The ``files`` kind: file drops (an inbox folder tree) landed into the lake.

New files are found by content hash, so a file re-sent under another name, or the same inbox
scanned twice, is not loaded twice, while a corrected file (new content) is. Each file is read
by the format the registry declares (``connectors.formats``); a file that cannot be read at all is
quarantined whole with its reason, and every record it yields goes through the landing contract.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

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


def extract_files(run: ExtractRun) -> None:
    source = run.source
    assert source.files is not None, "files sources declare a files: block"
    inbox = Path(run.connection())
    if not inbox.is_dir():
        raise SourceUnavailable(
            f"{source.name}: folder {inbox} does not exist. Set {source.connection.env} to the "
            "folder the system drops files into (for the demo: `ioc sim generate`)."
        )
    reader = READERS.get(source.files.format)
    if reader is None:
        raise SourceUnavailable(f"{source.name}: no reader for format {source.files.format}")
    paths = sorted(p for p in inbox.glob(source.files.pattern) if p.is_file())
    new = 0
    for path in paths:
        content = path.read_bytes()
        sha = hashlib.sha256(content).hexdigest()
        if run.item_seen(sha) or sha in run.manifest.items:
            continue
        new += 1
        item = path.relative_to(inbox).as_posix()
        fed = _tables_for(source, item)
        try:
            tables = reader(content, fed, source.files)
        except UnreadableFile as exc:
            run.item_quarantined(sha, item, exc.reason, exc.detail, content)
            continue
        for table in fed:
            records = tables.get(table.name, [])
            for record in records:
                record["_source_file"] = item
                record["_source_sha256"] = sha
                record["_run_id"] = run.run_id
            run.land(table, records_to_arrow(records))
        run.item_landed(sha, item)
    log.info("%s: %d new file(s) of %d in %s", source.name, new, len(paths), inbox)
