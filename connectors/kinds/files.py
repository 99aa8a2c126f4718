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
from connectors.formats.xml130 import Xml130Error, decode_file
from connectors.kinds.base import ExtractRun, SourceUnavailable
from connectors.landing import Record, records_to_arrow
from connectors.registry import Source, TableSpec

log = logging.getLogger(__name__)

# A reader turns one file into records per declared table name.
Reader = Callable[[bytes, Path, Source], dict[str, list[Record]]]


def read_xml130(content: bytes, path: Path, source: Source) -> dict[str, list[Record]]:
    record_paths = {table.name.upper(): table.record_path or "." for table in source.tables}
    try:
        decoded = decode_file(content, record_paths)
    except Xml130Error as exc:
        raise UnreadableFile(exc.reason, exc.detail) from exc
    return {table.name: decoded.tables[table.name.upper()] for table in source.tables}


READERS: dict[str, Reader] = {"xml130": read_xml130}


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
        item = str(path.relative_to(inbox))
        try:
            tables = reader(content, path, source)
        except UnreadableFile as exc:
            run.item_quarantined(sha, item, exc.reason, exc.detail, content)
            continue
        for table in _tables_for(source, item):
            records = tables.get(table.name, [])
            for record in records:
                record["_source_file"] = item
                record["_source_sha256"] = sha
                record["_run_id"] = run.run_id
            run.land(table, records_to_arrow(records))
        run.item_landed(sha, item)
    log.info("%s: %d new file(s) of %d in %s", source.name, new, len(paths), inbox)
