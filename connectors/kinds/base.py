"""What every connector kind works against: one extract run of one source.

A kind (``sql``, ``rest``, ``files``, ``mqtt``) only knows how to read its system. It asks the
run for the connection and the last committed watermark, hands every Arrow batch it reads to
``run.land`` (contract checks, pseudonymisation, Parquet part, quarantine) and reports whole
items it had to reject; the run counts everything, shows progress and commits the manifest with
the new state last.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn
from rich.text import Text

from connectors.landing import BatchWriter, Manifest, QuarantinedItem
from connectors.registry import Source, TableSpec
from connectors.source_lock import source_lock
from connectors.state import SourceState
from iochub.settings import Settings

log = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The source system cannot be reached or refused us; says what to check."""


@dataclass(frozen=True)
class ExtractOptions:
    full_refresh: bool = False  # ignore watermarks and handled files: read everything again
    since: str | None = None  # read from this date/timestamp instead of the watermark


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{task.completed:,.0f} rows" + (f" · {speed:,.0f} rows/s" if speed else ""))


class ExtractRun:
    """One run of one source: state in, batches landed, manifest (with new state) out.

    Used as a context manager: it holds the source's lock (connectors.source_lock) from before
    the sweep of uncommitted files until it is closed, so no other process's run of the same
    source can be swept or overlap it."""

    def __init__(
        self,
        source: Source,
        settings: Settings,
        options: ExtractOptions | None = None,
        state: SourceState | None = None,
    ) -> None:
        """``state``: the source's state when the caller already holds it up to date (a
        listener committing run after run), instead of reading every manifest again."""
        self.source = source
        self.settings = settings
        self.options = options or ExtractOptions()
        with ExitStack() as stack:  # released again if anything below fails
            stack.enter_context(source_lock(settings, source.name, f"extract run of {source.name}"))
            self.writer = BatchWriter(settings, source.name)
            swept = self.writer.sweep_uncommitted()
            if swept:
                log.warning(
                    "%s: removed %d files of runs that never committed", source.name, len(swept)
                )
            self.state = SourceState(settings, source.name) if state is None else state
            if self.options.full_refresh:
                self.state.watermarks.clear()
                self.state.items.clear()
                self.state.files.clear()
            manifest = self.writer.manifest
            manifest.watermark_before = dict(self.state.watermarks)
            # Tables not read this run keep their watermark.
            manifest.watermark_after = dict(self.state.watermarks)
            self._lock = stack.pop_all()
        self._started = time.perf_counter()
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            _RowsPerSecond(),
            disable=not os.isatty(2),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ExtractRun:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the source's lock (what was not committed stays uncommitted)."""
        self._progress.stop()
        self._lock.close()

    @property
    def run_id(self) -> str:
        return self.writer.run_id

    @property
    def manifest(self) -> Manifest:
        return self.writer.manifest

    def connection(self) -> str:
        return self.source.connection.resolve(self.settings, dict(os.environ))

    def since(self, table: TableSpec) -> str | None:
        """Where an incremental read of ``table`` starts: the watermark minus the lag window,
        ``--since`` when given, the declared initial value on the first run, else None."""
        if table.incremental is None:
            return None
        if self.options.since:
            return self.options.since
        watermark = self.state.watermarks.get(table.name)
        if watermark is None:
            return table.incremental.initial
        if not table.incremental.lag_hours:
            return watermark
        moved = datetime.fromisoformat(watermark) - timedelta(hours=table.incremental.lag_hours)
        return moved.isoformat(sep=" ") if " " in watermark else moved.isoformat()

    def advance_watermark(self, table: TableSpec, value: str | None) -> None:
        """Record the highest cursor value landed; committed with the manifest."""
        if value is None:
            return
        current = self.manifest.watermark_after.get(table.name)
        if current is None or value > current:
            self.manifest.watermark_after[table.name] = value

    def land(self, table: TableSpec, batch: pa.Table | pa.RecordBatch) -> None:
        if isinstance(batch, pa.RecordBatch):
            batch = pa.Table.from_batches([batch])
        self.writer.land(table, batch)
        if table.name not in self._tasks:
            self._progress.start()
            self._tasks[table.name] = self._progress.add_task(
                f"{self.source.name}.{table.name}", total=None
            )
        self._progress.advance(self._tasks[table.name], batch.num_rows)

    def item_seen(self, sha256: str) -> bool:
        return sha256 in self.state

    def item_landed(self, sha256: str, item: str, rows: int) -> None:
        """A whole item read; one that carried no data row at all is recorded as ``empty``."""
        self.manifest.items_in += 1
        self.manifest.items_landed += 1
        if rows == 0:
            self.manifest.items_empty += 1
            self.manifest.items[sha256] = f"empty:{item}"
            log.warning("%s: %s carries no data row (recorded as empty)", self.source.name, item)
        else:
            self.manifest.items[sha256] = f"landed:{item}"

    def undeclared(self, item: str, counts: dict[str, int]) -> None:
        """Parts of ``item`` no table declares: counted in the manifest, and said once."""
        if not counts:
            return
        known = self.manifest.undeclared_tables
        new = sorted(set(counts) - set(known))
        if new:
            log.warning(
                "%s: %s carries table(s) no declaration lands, skipped and counted in the "
                "manifest (undeclared_tables): %s",
                self.source.name,
                item,
                ", ".join(new),
            )
        for part, count in counts.items():
            known[part] = known.get(part, 0) + count

    def item_quarantined(
        self, sha256: str, item: str, reason: str, detail: str, raw: bytes
    ) -> None:
        """A whole item (a file, a message) that could not be read into rows at all."""
        log.warning("%s: quarantined %s (%s: %s)", self.source.name, item, reason, detail)
        self.manifest.items_in += 1
        self.manifest.items_quarantined += 1
        self.manifest.items[sha256] = f"quarantined:{reason}:{item}"
        self.writer.quarantine(QuarantinedItem(None, item, reason, detail, raw))

    def commit(self) -> Manifest:
        self._progress.stop()
        manifest = self.writer.commit()
        seconds = time.perf_counter() - self._started
        rows = sum(manifest.rows_in.values())
        log.info(
            "%s: run %s read %s rows in %.1f s (%s rows/s): landed %s, quarantined %s%s",
            self.source.name,
            manifest.run_id,
            f"{rows:,}",
            seconds,
            f"{rows / seconds:,.0f}" if seconds else "-",
            manifest.rows_landed,
            manifest.rows_quarantined,
            f", drift {manifest.drift}" if manifest.drift else "",
        )
        return manifest
