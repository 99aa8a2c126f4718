"""Landing: writes extracted batches into the lake, immutably, with a manifest written last.

Layout (DESIGN.md "Storage"):
``lake/raw/<source>/<table>/load_date=<date>/<run_id>.<part>.parquet`` for landed rows (a run
streams its batches into numbered parts, so memory stays bounded),
``lake/quarantine/<source>/load_date=<date>/<run_id>.parquet`` for rejected items with their
reason and raw content, and ``lake/_manifests/<source>/<run_id>.json``, one record per batch.
A run that fails leaves ``lake/_failures/<source>/<run_id>.json`` (when, and the error) and no
manifest, so freshness can tell a failing source from a quiet one.

A batch counts only once its manifest exists: every file is written under a temporary name and
renamed into place, the manifest last. Files of a run that died before its manifest are
uncommitted and are swept by the next run of the same source, which then loads the same input
again, so a failed run can simply be re-run. The extraction state (watermarks, files already
handled) is committed inside the manifest, so state and data can never disagree.

Every batch goes through the landing contract (``connectors.contract``) before it is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.contract import apply_contract
from connectors.registry import ColumnType, PiiTreatment, Source, TableSpec
from iochub.settings import Settings

Record = dict[str, str | None]


@dataclass(frozen=True)
class QuarantinedItem:
    """A rejected file or record, kept whole with a machine-readable reason."""

    table: str | None  # None when a whole item (a file) was rejected before any table
    item: str
    reason: str
    detail: str
    raw: bytes


@dataclass
class LandedTable:
    table: str
    path: str
    rows: int
    schema_hash: str
    checksum: str


@dataclass
class Manifest:
    """What one batch of one source carried, read back by freshness and audit."""

    source: str
    run_id: str
    load_date: str
    started_at: str
    finished_at: str = ""
    items_in: int = 0
    items_landed: int = 0
    items_quarantined: int = 0
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_landed: dict[str, int] = field(default_factory=dict)
    rows_quarantined: dict[str, int] = field(default_factory=dict)
    tables: list[LandedTable] = field(default_factory=list)
    quarantine_path: str | None = None
    # Committed state: per table the cursor before and after this run (incremental kinds), and
    # the content hashes of the items (files) this run handled, with their outcome.
    watermark_before: dict[str, str] = field(default_factory=dict)
    watermark_after: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    # Files read this run (inbox-relative path -> "size:mtime_ns"): a later run does not read
    # a file again whose size and modification time are unchanged (connectors/kinds/files.py).
    seen_files: dict[str, str] = field(default_factory=dict)
    # Schema drift seen per table: {"added": [...], "missing": [...], "renamed": {old: new}}.
    drift: dict[str, dict[str, object]] = field(default_factory=dict)
    # Parts of the files read that no table declares (XML 130 table types), with how many
    # documents of each were seen: skipped, but never without a word.
    undeclared_tables: dict[str, int] = field(default_factory=dict)
    # Items read whole that carried no data row at all (counted among the landed ones).
    items_empty: int = 0
    # Quarantine entries this run landed again (`ioc quarantine release`): released once only.
    released: list[str] = field(default_factory=list)
    # Expectations of the landing-batch suites (expectations.landing) run per table; a run with
    # a failing one does not commit.
    landing_checks: dict[str, int] = field(default_factory=dict)

    def check_invariant(self) -> None:
        """Nothing lost: rows in = landed + quarantined, per table, and the same for items."""
        if self.items_in != self.items_landed + self.items_quarantined:
            raise LandingError(
                f"{self.source} run {self.run_id}: {self.items_in} items in, "
                f"{self.items_landed} landed + {self.items_quarantined} quarantined"
            )
        for table, rows_in in self.rows_in.items():
            landed = self.rows_landed.get(table, 0)
            quarantined = self.rows_quarantined.get(table, 0)
            if rows_in != landed + quarantined:
                raise LandingError(
                    f"{self.source}.{table} run {self.run_id}: {rows_in} rows in, "
                    f"{landed} landed + {quarantined} quarantined"
                )


class LandingError(Exception):
    """A batch broke the landing contract; nothing of it is committed."""


DUCK_TO_ARROW = {
    ColumnType.STRING: pa.string(),
    ColumnType.INTEGER: pa.int64(),
    ColumnType.DECIMAL: pa.float64(),
    ColumnType.BOOLEAN: pa.bool_(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us"),
}


def _today() -> date:
    return datetime.now(UTC).date()


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_parquet(table: pa.Table, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return _sha256(path)


# Small batches of one table gathered before they are joined into one (BatchWriter.land).
COALESCE_BATCHES = 256


def _concatenated(batches: list[pa.Table]) -> pa.Table:
    """The batches as one table, one contiguous chunk per column: a batch gathered from
    thousands of files is otherwise thousands of tiny chunks, and DuckDB gives each chunk a
    vector of its own (measured: a year of XML 130 at scale 0.1 ran out of 19 GB in the
    contract query without this)."""
    return pa.concat_tables(batches, promote_options="permissive").combine_chunks()


def records_to_arrow(records: list[Record]) -> pa.Table:
    """All-string Arrow table over the union of the records' columns, in first-seen order."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    schema = pa.schema([pa.field(name, pa.string()) for name in columns])
    return pa.Table.from_pylist(records, schema=schema)


class BatchWriter:
    """Writes one run of one source: landed tables, quarantine, then the manifest."""

    def __init__(
        self,
        settings: Settings,
        source: str,
        run_id: str | None = None,
        flush_rows: int = 200_000,
    ) -> None:
        self.settings = settings
        self.source = source
        now = datetime.now(UTC)
        self.run_id = run_id or new_run_id(now)
        self.manifest = Manifest(
            source=source,
            run_id=self.run_id,
            load_date=now.date().isoformat(),
            started_at=now.isoformat(),
        )
        self._quarantine: list[QuarantinedItem] = []
        self._parts: dict[str, int] = {}
        self._buffers: dict[str, tuple[TableSpec, list[pa.Table]]] = {}
        self._buffered_rows: dict[str, int] = {}
        self._small_batches: dict[str, int] = {}  # per table: batches appended since the last join
        self.flush_rows = flush_rows

    @property
    def manifest_dir(self) -> Path:
        return self.settings.manifest_dir / self.source

    def committed_run_ids(self) -> set[str]:
        return {path.stem for path in self.manifest_dir.glob("*.json")}

    def sweep_uncommitted(self) -> list[Path]:
        """Remove batch files of earlier runs of this source that never got a manifest."""
        committed = self.committed_run_ids()
        swept = []
        for root in (
            self.settings.raw_dir / self.source,
            self.settings.quarantine_dir / self.source,
        ):
            for path in root.rglob("*.parquet*") if root.exists() else []:
                if path.name == PLACEHOLDER:
                    continue
                run_id = path.name.lstrip(".").split(".")[0]
                if run_id not in committed:
                    path.unlink()
                    swept.append(path)
        return swept

    def land(self, spec: TableSpec, batch: pa.Table) -> None:
        """Take one batch of a table. Small batches (a file's worth) are gathered until
        ``flush_rows`` so the lake gets few, large parts; memory stays bounded by that."""
        rows_in = self.manifest.rows_in
        rows_in[spec.name] = rows_in.get(spec.name, 0) + batch.num_rows
        if batch.num_rows == 0:
            return
        if spec.name in self._buffers and self._buffers[spec.name][0] is not spec:
            self._flush(spec.name)  # gathered rows are checked by the contract they came with
        buffered = self._buffers.setdefault(spec.name, (spec, []))[1]
        buffered.append(batch)
        small = self._small_batches.get(spec.name, 0) + 1
        if small >= COALESCE_BATCHES:
            # Thousands of one-file tables cost far more than their rows: each column of each
            # keeps its own buffers (the dev province's XML 130 inbox, 203,524 rows, held 2.6 GB
            # before its first flush). The last ones joined into one hold the same rows in their
            # data's size; the tables joined before are left as they are (copied once more only
            # when the part is written).
            buffered[-small:] = [_concatenated(buffered[-small:])]
            small = 0
        self._small_batches[spec.name] = small
        # A running count: summing the buffer at every batch was quadratic in the batches a
        # part gathers (a fifth of the landing process's time on the scale-1 XML 130 inbox).
        self._buffered_rows[spec.name] = self._buffered_rows.get(spec.name, 0) + batch.num_rows
        if self._buffered_rows[spec.name] >= self.flush_rows:
            self._flush(spec.name)

    def _flush(self, table: str) -> None:
        spec, buffered = self._buffers.pop(table, (None, []))
        self._buffered_rows.pop(table, None)
        self._small_batches.pop(table, None)
        if spec is None or not buffered:
            return
        self._check_and_write(spec, _concatenated(buffered))

    def _check_and_write(self, spec: TableSpec, batch: pa.Table) -> None:
        """Check a batch against the table's contract, write its clean rows as the next part
        and queue its rejected rows for quarantine."""
        result = apply_contract(spec, batch, self.settings.pii_key, _today())
        if result.added_columns or result.missing_columns or result.renamed:
            seen = self.manifest.drift.setdefault(spec.name, {})
            for key, value in (
                ("added", result.added_columns),
                ("missing", result.missing_columns),
            ):
                if value:
                    known = seen.setdefault(key, [])
                    assert isinstance(known, list)
                    known.extend(c for c in value if c not in known)
            if result.renamed:
                renamed = seen.setdefault("renamed", {})
                assert isinstance(renamed, dict)
                renamed.update(result.renamed)
        for row in result.rejected:
            self.quarantine(QuarantinedItem(spec.name, row.item, row.reason, row.detail, row.raw))
        if result.clean.num_rows:
            self._validate(spec, result.clean)
            self._write_part(spec.name, result.clean)

    def _validate(self, spec: TableSpec, clean: pa.Table) -> None:
        """The table's landing suite on the rows about to be written (Great Expectations is
        imported only when a run lands something)."""
        from expectations.landing import LandingSuiteFailed, validate_landing_part

        load_day = date.fromisoformat(self.manifest.load_date)
        count, failures = validate_landing_part(self.source, spec, clean, load_day)
        checks = self.manifest.landing_checks
        checks[spec.name] = checks.get(spec.name, 0) + count
        if failures:
            raise LandingSuiteFailed(
                f"{self.source}.{spec.name}: the landing suite failed on rows the contract kept "
                f"(the contract code and the registry disagree; nothing was committed): "
                + "; ".join(failures)
            )

    def land_records(self, spec: TableSpec, records: list[Record]) -> None:
        self.land(spec, records_to_arrow(records))

    def _write_part(self, table: str, arrow: pa.Table) -> None:
        self._parts[table] = self._parts.get(table, 0) + 1
        path = (
            self.settings.raw_dir
            / self.source
            / table
            / f"load_date={self.manifest.load_date}"
            / f"{self.run_id}.{self._parts[table]:05d}.parquet"
        )
        checksum = _write_parquet(arrow, path)
        schema_hash = hashlib.sha256(
            ",".join(f"{f.name}:{f.type}" for f in arrow.schema).encode()
        ).hexdigest()[:16]
        self.manifest.tables.append(
            LandedTable(
                table=table,
                path=str(path.relative_to(self.settings.lake_dir)),
                rows=arrow.num_rows,
                schema_hash=schema_hash,
                checksum=checksum,
            )
        )
        landed = self.manifest.rows_landed
        landed[table] = landed.get(table, 0) + arrow.num_rows

    @property
    def quarantined_items(self) -> list[QuarantinedItem]:
        return list(self._quarantine)

    def quarantine(self, item: QuarantinedItem) -> None:
        self._quarantine.append(item)
        if item.table is not None:
            rows = self.manifest.rows_quarantined
            rows[item.table] = rows.get(item.table, 0) + 1

    def commit(self) -> Manifest:
        """Write the quarantine file, check the invariant, then write the manifest (last)."""
        for table in list(self._buffers):
            self._flush(table)
        if self._quarantine:
            stamp = datetime.now(UTC).isoformat()
            arrow = pa.table(
                {
                    "source": [self.source] * len(self._quarantine),
                    "table_name": [q.table for q in self._quarantine],
                    "item": [q.item for q in self._quarantine],
                    "reason": [q.reason for q in self._quarantine],
                    "detail": [q.detail for q in self._quarantine],
                    "raw_content": pa.array([q.raw for q in self._quarantine], pa.binary()),
                    "run_id": [self.run_id] * len(self._quarantine),
                    "quarantined_at": [stamp] * len(self._quarantine),
                }
            )
            path = (
                self.settings.quarantine_dir
                / self.source
                / f"load_date={self.manifest.load_date}"
                / f"{self.run_id}.parquet"
            )
            _write_parquet(arrow, path)
            self.manifest.quarantine_path = str(path.relative_to(self.settings.lake_dir))
        self.manifest.check_invariant()
        self.manifest.finished_at = datetime.now(UTC).isoformat()
        self.manifest_dir.mkdir(parents=True, exist_ok=True)
        target = self.manifest_dir / f"{self.run_id}.json"
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(asdict(self.manifest), indent=2, ensure_ascii=False))
        os.replace(tmp, target)
        return self.manifest


def record_failure(settings: Settings, source: str, run_id: str, error: BaseException) -> Path:
    """Write the failure record of a run that did not commit: what the operators' freshness
    table shows as the source's last error."""
    target = settings.failure_dir / source / f"{run_id}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "source": source,
        "run_id": run_id,
        "failed_at": datetime.now(UTC).isoformat(),
        "error_type": type(error).__name__,
        "error": str(error)[:2000],
    }
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    os.replace(tmp, target)
    return target


PLACEHOLDER = "_placeholder.parquet"


def write_placeholders(settings: Settings, sources: list[Source]) -> list[Path]:
    """An empty Parquet file, typed by the contract, in the folder of every declared table.

    dbt reads a table's parts by name (``union_by_name``), so a column exists in staging only if
    some part carries it. The placeholder carries every declared column: dbt builds over every
    source from day one (DuckDB refuses a glob that matches nothing), and over parts landed
    before a column was declared or from files that all omitted an optional one. Rewritten when
    the declaration changes. Zero rows: it changes no result; it is not a batch, so no manifest
    names it, and the sweep of uncommitted runs leaves it alone."""
    written = []
    for source in sources:
        for table in source.tables:
            folder = settings.raw_dir / source.name / table.name
            path = folder / "load_date=1970-01-01" / PLACEHOLDER
            # A treated personal-data column lands as text whatever its declared type (a
            # pseudonym, a year), so its placeholder is text too: a typed one made PostgreSQL
            # cast a date where the parts hold "1985".
            columns = [
                pa.field(name, pa.string() if name in table.pii else DUCK_TO_ARROW[spec.type])
                for name, spec in table.columns.items()
                if table.pii.get(name) is not PiiTreatment.DROP
            ]
            columns += [
                pa.field(name, pa.string())
                for name, treatment in table.pii.items()
                if name not in table.columns and treatment is not PiiTreatment.DROP
            ]
            columns += [
                pa.field(name, kind_type)
                for name, kind_type in lineage_columns(source).items()
                if name not in table.columns
            ]
            schema = pa.schema(columns)
            if path.exists() and pq.read_schema(path).equals(schema):
                continue
            _write_parquet(schema.empty_table(), path)
            written.append(path)
    return written


def lineage_columns(source: Source) -> dict[str, pa.DataType]:
    """The lineage columns each kind adds to every row it lands (see connectors/kinds/)."""
    columns: dict[str, pa.DataType] = {"_run_id": pa.string()}
    if source.kind == "files":
        columns |= {"_source_file": pa.string(), "_source_sha256": pa.string()}
        if source.files is not None and source.files.format == "xml130":
            columns |= {"_facility_code": pa.string(), "_file_created_on": pa.string()}
    elif source.kind == "sql":
        columns["_extracted_at"] = pa.timestamp("us", tz="UTC")
    elif source.kind == "rest":
        columns |= {"_period": pa.string(), "_parent_id": pa.string()}
    elif source.kind == "mqtt":
        columns["_topic"] = pa.string()
    return columns


def read_manifests(settings: Settings, source: str) -> list[Manifest]:
    """Committed manifests of a source, oldest first."""
    manifests = []
    for path in sorted((settings.manifest_dir / source).glob("*.json")):
        data = json.loads(path.read_text())
        data["tables"] = [LandedTable(**t) for t in data["tables"]]
        manifests.append(Manifest(**data))
    return manifests
