"""What a warehouse build must redo: only the sources that landed something since the last build.

A new day touches some sources, not the whole province, so a build after an extract need not
rebuild and re-test every node. Before ``dbt build``, :func:`plan_build` compares the lake's
committed extract runs (the manifests, one per run) with those the last successful build had
seen (``warehouse/build_state.json``, written by :func:`record_build` after dbt succeeds):

- nothing recorded yet, no ``build.duckdb``, or the dbt project or the source registry changed
  since (a digest of their files): a full build with ``--full-refresh``, which rebuilds the
  incremental models from the whole lake under the new code;
- otherwise, the dbt selection ``source:<name>+`` of each source with new runs (its models,
  everything downstream and their tests), plus ``tag:every_build+``: the models judged against
  the build's clock or reading the lake's own records (freshness, quarantine statistics, alerts,
  KPI statuses), which change when time passes even if no data does. The large facts are
  incremental models (dbt_project/macros/lake_increment.sql), so a selected one merges only the
  new runs. dbt's unit tests are left to the full builds: their inputs are rows written in the
  YAML, so only a change of the project can change their outcome.

The state is recorded only after dbt succeeded, with the runs seen when the build was planned:
a failed build, or a run committed while it ran, is taken by the next one. It holds, per source,
how many runs had committed and the newest run's id, not every id: manifests are never removed,
so a new run always changes the count, and a listener committing a run a minute would otherwise
grow the record (and the plan each build hands between its Airflow tasks) by 1,440 ids a day.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from iochub.settings import Settings

log = logging.getLogger(__name__)

EVERY_BUILD = "tag:every_build+"
UNIT_TESTS = "resource_type:unit_test"
# What the warehouse is built by: a change in any of these rebuilds it whole.
PROJECT_PARTS = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


@dataclass(frozen=True)
class BuildPlan:
    full_refresh: bool
    reason: str
    changed_sources: list[str] = field(default_factory=list)
    # Committed at planning, per source: how many runs, and the newest run's id.
    run_counts: dict[str, int] = field(default_factory=dict)
    newest_runs: dict[str, str] = field(default_factory=dict)
    project_digest: str = ""

    @property
    def select(self) -> list[str]:
        """dbt's selection, or nothing (every node) on a full build."""
        if self.full_refresh:
            return []
        return [*(f"source:{name}+" for name in self.changed_sources), EVERY_BUILD]

    @property
    def exclude(self) -> list[str]:
        """What a build of new runs leaves out: the unit tests, whose inputs are fixed rows in
        the YAML, so only a change of the project (a full build) can change their outcome."""
        if self.full_refresh:
            return []
        return [UNIT_TESTS]

    def dbt_arguments(self) -> list[str]:
        """The arguments after ``dbt build``."""
        if self.full_refresh:
            return ["--full-refresh"]
        return ["--select", *self.select, "--exclude", *self.exclude]

    def describe(self) -> str:
        if self.full_refresh:
            return f"full build ({self.reason})"
        changed = ", ".join(self.changed_sources) or "none"
        return f"incremental build: sources with new runs: {changed}"


def state_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "build_state.json"


def committed_runs(settings: Settings) -> tuple[dict[str, int], dict[str, str]]:
    """Per source: how many extract runs have committed (a manifest each), and the newest's id
    (run ids start with the run's UTC time)."""
    counts: dict[str, int] = {}
    newest: dict[str, str] = {}
    if not settings.manifest_dir.exists():
        return counts, newest
    for folder in sorted(settings.manifest_dir.iterdir()):
        ids = [p.stem for p in folder.glob("*.json")] if folder.is_dir() else []
        if ids:
            counts[folder.name] = len(ids)
            newest[folder.name] = max(ids)
    return counts, newest


def project_digest(settings: Settings) -> str:
    """A digest of the dbt project's and the registry's files (names and contents)."""
    digest = hashlib.sha256()
    roots = [settings.dbt_project_dir / part for part in PROJECT_PARTS] + [settings.sources_dir]
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(os.fsencode(f"{root.name}/{path.relative_to(root)}"))
            digest.update(path.read_bytes())
    return digest.hexdigest()


def plan_build(settings: Settings, full_refresh: bool = False) -> BuildPlan:
    """The build the lake and the last recorded build call for (see the module docstring)."""
    counts, newest = committed_runs(settings)
    digest = project_digest(settings)
    recorded = _recorded(settings)
    reason = ""
    if full_refresh:
        reason = "asked for"
    elif not settings.build_db.exists():
        reason = "no build warehouse yet"
    elif recorded is None:
        reason = "no earlier build recorded"
    elif recorded.get("project_digest") != digest:
        reason = "the dbt project or the source registry changed"
    if reason:
        return BuildPlan(True, reason, sorted(counts), counts, newest, digest)
    assert recorded is not None
    seen_counts = recorded.get("run_counts", {})
    seen_newest = recorded.get("newest_runs", {})
    changed = sorted(
        source
        for source in counts
        if counts[source] != seen_counts.get(source) or newest[source] != seen_newest.get(source)
    )
    return BuildPlan(False, "new runs", changed, counts, newest, digest)


def record_build(settings: Settings, plan: BuildPlan) -> None:
    """Note the plan's runs as built (after dbt succeeded), atomically."""
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(plan), indent=1, sort_keys=True))
    os.replace(tmp, path)


def _recorded(settings: Settings) -> dict[str, Any] | None:
    path = state_path(settings)
    if not path.exists():
        return None
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("%s unreadable (%s): the warehouse is rebuilt whole", path, exc)
        return None
    return loaded if isinstance(loaded, dict) else None
