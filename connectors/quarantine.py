"""The quarantine, read back: what was refused, why, and releasing it once the cause is fixed.

Landing puts every file it cannot read and every row that breaks its contract into
``lake/quarantine/<source>/load_date=…/<run_id>.parquet`` (reason, detail, raw content), listed by
the run's manifest. This module is what ``ioc quarantine list|show|release`` runs:

- an **entry** is one quarantined file (``table`` is None; ``raw`` is the file's bytes, so its id is
  the start of the file's content hash) or one row (``raw`` is the row as JSON, personal data
  already pseudonymised; its id is derived from its run and position);
- **release** lands entries again, through the same reader and contract as a normal run, after
  the declaration was widened (a code list, an optional column, a sheet pattern). It is a run of
  its own with a manifest naming the released ids, so a second release of the same entry does
  nothing, and an entry that would still be refused is left as it is (nothing is committed).
  Rows keep the pseudonyms they were quarantined with: they are not treated a second time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow.parquet as pq

from connectors.contract import apply_contract
from connectors.kinds.base import ExtractRun
from connectors.landing import Manifest, read_manifests, records_to_arrow
from connectors.registry import ColumnSpec, PiiTreatment, Source, TableSpec
from iochub.settings import Settings

log = logging.getLogger(__name__)

# What a sender or a data engineer does about each reason (docs/operations.md has the long form).
ADVICE = {
    "missing_required": "the sender left a required field empty: correct it at the source, re-send",
    "bad_type": "a value is not of the declared type (a date, a number): correct it at the source",
    "not_in_code_list": (
        "a code the contract does not list: correct it at the source, or add it (or an alias) to "
        "the column's codes in the source's YAML, then release"
    ),
    "out_of_range": "a value outside the declared range: check the sensor or the entry",
    "future_date": "a date after the day it was sent: correct the date at the source",
    "unknown_admin_code": (
        "an admin code in neither the old nor the 2025 structure: correct it at the source"
    ),
    "schema_drift": (
        "the columns changed: declare the new column (or renamed_from) in the YAML, then release"
    ),
    "missing_columns": (
        "the file lacks declared columns: ask the sender to use the template, or declare the "
        "header spelling they use (headers:) in the YAML, then release"
    ),
    "no_declared_sheet": (
        "no sheet of the workbook is one the YAML declares: ask the sender for the template, or "
        "add their sheet name to the table's sheets: patterns, then release"
    ),
    "no_declared_table": (
        "the file carries only tables no declaration lands (e.g. XML5 alone): declare the "
        "table in the YAML if it is wanted, then release"
    ),
    "malformed_xml": "the file is not well-formed XML (often truncated): ask the sender to re-send",
    "invalid_base64": "an embedded document is not valid base64: ask the sender to re-export",
    "episode_count_mismatch": "SOLUONGHOSO disagrees with the episodes: ask for a re-export",
    "undecodable": "the text encoding cannot be read: ask for UTF-8, or declare files.encoding",
    "corrupt_workbook": "the workbook cannot be opened: ask the sender to save it again as .xlsx",
}


@dataclass(frozen=True)
class Entry:
    id: str
    source: str
    table: str | None  # None: a whole file (or message)
    item: str
    reason: str
    detail: str
    raw: bytes
    run_id: str
    quarantined_at: str
    released_by: str | None  # the run that released it, if any

    @property
    def advice(self) -> str:
        return ADVICE.get(self.reason, "see the detail; fix at the source, then re-send")


class ReleaseError(Exception):
    """Nothing was released; the message says why and what to do."""


def _released(manifests: list[Manifest]) -> dict[str, str]:
    return {entry: m.run_id for m in manifests for entry in m.released}


def entries(settings: Settings, source: str) -> Iterator[Entry]:
    """Every entry of the committed runs of ``source``, oldest run first."""
    manifests = read_manifests(settings, source)
    released = _released(manifests)
    for manifest in manifests:
        if manifest.quarantine_path is None:
            continue
        rows = pq.read_table(settings.lake_dir / manifest.quarantine_path).to_pylist()
        for index, row in enumerate(rows):
            raw = bytes(row["raw_content"])
            if row["table_name"] is None:
                entry_id = hashlib.sha256(raw).hexdigest()[:12]
            else:
                entry_id = hashlib.sha256(f"{manifest.run_id}#{index}".encode()).hexdigest()[:12]
            yield Entry(
                id=entry_id,
                source=source,
                table=row["table_name"],
                item=row["item"],
                reason=row["reason"],
                detail=row["detail"],
                raw=raw,
                run_id=manifest.run_id,
                quarantined_at=row["quarantined_at"],
                released_by=released.get(entry_id),
            )


def all_entries(settings: Settings, sources: list[str]) -> list[Entry]:
    return [entry for source in sources for entry in entries(settings, source)]


def find(settings: Settings, sources: list[str], entry_id: str) -> Entry:
    matches = [e for e in all_entries(settings, sources) if e.id.startswith(entry_id)]
    if not matches:
        raise ReleaseError(f"no quarantine entry {entry_id!r} (see `ioc quarantine list`)")
    if len({e.id for e in matches}) > 1:
        raise ReleaseError(f"{entry_id!r} names several entries: give more of the id")
    return matches[0]


def _as_landed(table: TableSpec) -> TableSpec:
    """The contract for rows that were quarantined: their personal data is already treated
    (pseudonyms, years), so those columns are checked as plain text, not treated again."""
    columns = dict(table.columns)
    for name, treatment in table.pii.items():
        if treatment is not PiiTreatment.DROP:
            columns.setdefault(name, ColumnSpec())
    return table.model_copy(update={"columns": columns, "pii": {}})


def release(source: Source, settings: Settings, chosen: list[Entry]) -> Manifest | None:
    """Land ``chosen`` entries of ``source`` again in one run; None when all were released before.

    Files are read again whole; rows are checked again by the current contract. Raises
    ``ReleaseError`` (and commits nothing) when a file would still be refused: widen the
    declaration first.
    """
    todo = [e for e in chosen if e.released_by is None]
    for entry in chosen:
        if entry.released_by is not None:
            log.info(
                "%s was released before, by run %s: nothing to do", entry.id, entry.released_by
            )
    if not todo:
        return None
    with ExtractRun(source, settings) as run:
        rows: dict[str, list[dict[str, str | None]]] = {}
        for entry in todo:
            if entry.table is None:
                if source.kind != "files":
                    raise ReleaseError(
                        f"{entry.id}: a whole {source.kind} item cannot be read again from the "
                        "quarantine; re-read the source (`ioc extract --since`)"
                    )
                from connectors.kinds.files import land_file

                land_file(run, entry.item, entry.raw)
            else:
                record = json.loads(entry.raw)
                if "_run_id" in record:
                    record["_run_id"] = run.run_id
                rows.setdefault(entry.table, []).append(
                    {k: None if v is None else str(v) for k, v in record.items()}
                )
        if run.manifest.items_quarantined:
            raise ReleaseError(
                "still refused, nothing released: "
                + "; ".join(
                    f"{q.item}: {q.reason}: {q.detail}" for q in run.writer.quarantined_items
                )
                + ". Widen the declaration (connectors/sources/…) and release again."
            )
        for name, records in rows.items():
            table = _as_landed(source.table(name))
            batch = records_to_arrow(records)
            still = apply_contract(table, batch, settings.pii_key)
            if still.rejected:
                first = still.rejected[0]
                raise ReleaseError(
                    f"{len(still.rejected)} of {len(records)} row(s) of {name} would still be "
                    f"refused ({first.reason}: {first.detail}); nothing released. Widen the "
                    "declaration and release again."
                )
            run.land(table, batch)
        run.manifest.released = [e.id for e in todo]
        return run.commit()
