"""The whole flow in one call, without a scheduler: extract every source, build, gate, publish.

This is what ``ioc extract --all``, ``ioc run`` and ``make demo`` do, and what the tests use to
make a serving warehouse; the Airflow DAGs run the same functions as separate tasks. Every
source is attempted whatever happened to the ones before it: a source that is down or broken
fails alone, its error is recorded in the lake (``lake/_failures``), the others land, and the
warehouse is built from what the lake holds. The caller reports the summary and exits non-zero
when any source failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.contract import SchemaDriftError
from connectors.extract import UnknownSource, run_extract
from connectors.kinds.base import ExtractOptions, SourceUnavailable
from connectors.landing import LandingError, Manifest, new_run_id
from connectors.registry import RegistryError, load_registry
from connectors.source_lock import SourceBusy
from iochub.settings import Settings
from iochub.warehouse import BuildOutcome, build_and_publish

log = logging.getLogger(__name__)

# Failures the hub expects and words itself: the system cannot be reached, a declaration is
# wrong, a batch broke its contract. Anything else is a bug in iochub, and its log says so.
EXPECTED_FAILURES = (
    UnknownSource,
    SourceUnavailable,
    RegistryError,
    SchemaDriftError,
    LandingError,
)


@dataclass(frozen=True)
class SourceFailure:
    error_type: str
    message: str
    expected: bool  # one of EXPECTED_FAILURES; False: an iochub bug, traceback in the log

    def __str__(self) -> str:
        return self.message if self.expected else f"{self.error_type}: {self.message}"


@dataclass
class ExtractOutcome:
    manifests: dict[str, Manifest] = field(default_factory=dict)
    failures: dict[str, SourceFailure] = field(default_factory=dict)
    # Left to the process already extracting them (a listener, a DAG run): not a failure.
    busy: dict[str, str] = field(default_factory=dict)
    attempted: list[str] = field(default_factory=list)  # in the order they ran

    def summary(self) -> list[tuple[str, str, str, str, str]]:
        """One row per source attempted: name, status, items, rows landed / quarantined, and
        the error's type or what was skipped (the errors in full are in ``failures``)."""
        rows = []
        for name in self.attempted:
            if name in self.failures:
                rows.append((name, "FAILED", "-", "-", self.failures[name].error_type))
                continue
            if name in self.busy:
                rows.append((name, "busy", "-", "-", self.busy[name]))
                continue
            manifest = self.manifests[name]
            landed = sum(manifest.rows_landed.values())
            quarantined = sum(manifest.rows_quarantined.values())
            items = (
                f"{manifest.items_in} ({manifest.items_quarantined} quarantined"
                + (f", {manifest.items_empty} empty" if manifest.items_empty else "")
                + ")"
                if manifest.items_in
                else "-"
            )
            notes = ", ".join(f"{t} {n}" for t, n in sorted(manifest.undeclared_tables.items()))
            rows.append(
                (
                    name,
                    "landed",
                    items,
                    f"{landed:,} / {quarantined:,}",
                    f"undeclared tables skipped: {notes}" if notes else "",
                )
            )
        return rows


def extract_all(
    settings: Settings,
    names: list[str] | None = None,
    options: ExtractOptions | None = None,
    on_done: Callable[[str, Manifest | SourceFailure], None] | None = None,
) -> ExtractOutcome:
    """Run every source (or ``names``), each whatever happened to the others.

    An invalid registry stops here, before any source, as nothing can be run from it; an
    unknown name in ``names`` is a failure of that name alone.
    """
    outcome = ExtractOutcome()
    sources = load_registry(settings)  # once, not once per source
    for name in names or list(sources):
        result: Manifest | SourceFailure
        outcome.attempted.append(name)
        try:
            result = outcome.manifests[name] = run_extract(name, settings, options, sources)
        except SourceBusy as exc:
            log.info("%s: %s", name, exc)
            outcome.busy[name] = f"being extracted by pid {exc.holder.get('pid', '?')}"
            continue
        except EXPECTED_FAILURES as exc:
            log.error("%s: extract failed: %s", name, exc)
            result = outcome.failures[name] = SourceFailure(type(exc).__name__, str(exc), True)
        except Exception as exc:  # one source's bug must not stop the others
            log.exception("%s: extract failed on an unexpected error (an iochub bug)", name)
            result = outcome.failures[name] = SourceFailure(type(exc).__name__, str(exc), False)
        if on_done is not None:
            on_done(name, result)
    return outcome


def run_pipeline(
    settings: Settings, names: list[str] | None = None
) -> tuple[ExtractOutcome, BuildOutcome]:
    extracted = extract_all(settings, names)
    return extracted, build_and_publish(settings, run_id=new_run_id())
