"""The ``files`` kind: file drops (an inbox folder tree) landed into the lake.

New files are found by content hash; each is decoded by the format the registry declares
(``xml130`` so far). A file that cannot be decoded is quarantined whole with its reason; a record
that breaks its table's contract (a required field empty) is quarantined alone. Personal data is
pseudonymised before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from rich.progress import track

from connectors.landing import BatchWriter, Manifest, QuarantinedItem, Record
from connectors.pseudonymise import apply_treatments
from connectors.registry import Source, TableSpec
from connectors.state import SeenFiles
from connectors.xml130 import Xml130Error, decode_file
from iochub.settings import Settings

log = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The source system cannot be reached (here: the inbox folder does not exist)."""


def _check_record(
    record: Record, spec: TableSpec, key: bytes, writer: BatchWriter, item: str
) -> Record | None:
    missing = [column for column in spec.required if not record.get(column)]
    if missing:
        writer.quarantine(
            QuarantinedItem(
                table=spec.name,
                item=item,
                reason="missing_required",
                detail=f"required field(s) empty: {', '.join(missing)}",
                # Quarantine keeps the raw record, but PII stays pseudonymised there too.
                raw=json.dumps(
                    apply_treatments(record, spec.pii, key), ensure_ascii=False
                ).encode(),
            )
        )
        return None
    return apply_treatments(record, spec.pii, key)


def extract_files(source: Source, settings: Settings) -> Manifest:
    assert source.files is not None, "files sources declare a files: block"
    inbox = Path(source.connection.resolve(settings, dict(os.environ)))
    if not inbox.is_dir():
        raise SourceUnavailable(
            f"{source.name}: inbox folder {inbox} does not exist. Set {source.connection.env} to "
            "the folder the facilities drop files into, or run `ioc sim seed` for the demo inbox."
        )
    writer = BatchWriter(settings, source.name)
    swept = writer.sweep_uncommitted()
    if swept:
        log.warning("%s: removed %d files of runs that never committed", source.name, len(swept))
    seen = SeenFiles(settings, source.name)
    record_paths = {table.name.upper(): table.record_path for table in source.tables}
    batches: dict[str, list[Record]] = {table.name: [] for table in source.tables}
    new_files = []
    for path in sorted(p for p in inbox.glob(source.files.pattern) if p.is_file()):
        content = path.read_bytes()
        sha = hashlib.sha256(content).hexdigest()
        if sha not in seen:
            new_files.append((path, content, sha))
    writer.manifest.watermark_before = str(len(seen.entries))
    log.info("%s: %d new file(s) in %s", source.name, len(new_files), inbox)

    for path, content, sha in track(
        new_files, description=f"Landing {source.name}", disable=not os.isatty(2)
    ):
        item = str(path.relative_to(inbox))
        writer.manifest.items_in += 1
        try:
            decoded = decode_file(content, record_paths)
        except Xml130Error as exc:
            log.warning("%s: quarantined %s (%s)", source.name, item, exc)
            writer.quarantine(QuarantinedItem(None, item, exc.reason, exc.detail, content))
            writer.manifest.items_quarantined += 1
            seen.add(sha, item, writer.run_id, f"quarantined:{exc.reason}")
            continue
        writer.manifest.items_landed += 1
        seen.add(sha, item, writer.run_id, "landed")
        for table in source.tables:
            records = decoded.tables[table.name.upper()]
            counts = writer.manifest.rows_in
            counts[table.name] = counts.get(table.name, 0) + len(records)
            for record in records:
                record["_source_file"] = item
                record["_source_sha256"] = sha
                record["_run_id"] = writer.run_id
                kept = _check_record(record, table, settings.pii_key, writer, item)
                if kept is not None:
                    batches[table.name].append(kept)

    for table_name, records in batches.items():
        writer.land(table_name, records)
    writer.manifest.watermark_after = str(len(seen.entries))
    manifest = writer.commit()
    seen.save()
    log.info(
        "%s: run %s landed %s, quarantined %d file(s)",
        source.name,
        writer.run_id,
        manifest.rows_landed,
        manifest.items_quarantined,
    )
    return manifest
