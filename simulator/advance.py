"""``ioc sim advance``: the simulated province's clock moves forward.

The province is regenerated to a later end date in a staging folder, then synchronised into the
simulation folder: files that did not change are left untouched (same bytes, same mtime, so a
connector watching the inbox sees only what is new), new files appear, files that grew (a monthly
CSV, a SQLite database) are replaced atomically. Databases on PostgreSQL / MariaDB are rebuilt in
place with the same rows plus the new ones; rows whose state progressed (a dossier's status)
carry the day of that change in their ``updated_at``, so a cursor sees exactly the changes.

This relies on every sector being prefix-stable (a run to a later end only adds to and advances
a run to an earlier one), which ``tests/simulator/test_prefix_stability.py`` checks. The clock
moves in whole days: the generators simulate a day at a time.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from simulator.generate import GenerateParams, generate
from simulator.outage import OUTAGE_DIR, lifted


@dataclass(frozen=True)
class AdvanceResult:
    old_end: date
    new_end: date
    added: list[str]
    replaced: list[str]
    unchanged: int


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            chunk = fa.read(1 << 20)
            if chunk != fb.read(1 << 20):
                return False
            if not chunk:
                return True


def sync_tree(source: Path, target: Path) -> tuple[list[str], list[str], int, list[str]]:
    """Make ``target`` equal ``source``, touching only what differs.

    Returns (added, replaced, unchanged count, removed), paths relative to ``target``.
    """
    added: list[str] = []
    replaced: list[str] = []
    unchanged = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source)
        dest = target / rel
        if dest.exists() and _same(path, dest):
            unchanged += 1
            continue
        (replaced if dest.exists() else added).append(str(rel))
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.advance")
        shutil.copy2(path, tmp)
        os.replace(tmp, dest)
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    removed = [
        str(p.relative_to(target))
        for p in sorted(target.rglob("*"))
        if p.is_file()
        and p.relative_to(target) not in wanted
        and OUTAGE_DIR not in p.relative_to(target).parts
    ]
    for gone in removed:
        (target / gone).unlink()
    return added, replaced, unchanged, removed


class NotEnoughSpace(ValueError):
    """The disk cannot hold the staging copy an advance writes."""


def _check_space(sim_dir: Path, staging: Path, new_end: date) -> None:
    """Refuse before generating when the disk cannot hold a second copy of the province: at
    scale 1 (37 GB) an advance ran out of space after ten minutes, half-way through."""
    needed = sum(
        (Path(folder) / name).stat().st_size
        for folder, _, names in os.walk(sim_dir)
        for name in names
    )
    free = shutil.disk_usage(sim_dir.parent).free
    if free < needed:
        raise NotEnoughSpace(
            f"moving the province to {new_end} regenerates it in {staging} and then copies what "
            f"changed: that needs about {needed / 1e9:.1f} GB free beside {sim_dir}, and "
            f"{free / 1e9:.1f} GB are. Free disk space, or generate a smaller province "
            "(`ioc sim generate --scale`)."
        )


def advance(
    sim_dir: Path,
    hours: float,
    pg_url: str | None,
    mysql_url: str | None,
    db_prefix: str,
    workers: int = 2,
) -> AdvanceResult:
    """Move the province in ``sim_dir`` forward by ``hours``, rounded up to whole days."""
    manifest_path = sim_dir / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"no simulated province in {sim_dir}: run `ioc sim generate` first")
    if hours <= 0:
        raise ValueError("--hours must be positive")
    manifest = json.loads(manifest_path.read_text())
    old_end = date.fromisoformat(manifest["end"])
    new_end = old_end + timedelta(days=math.ceil(hours / 24))
    servers = manifest["servers"]
    params = GenerateParams(
        scale=float(manifest["scale"]),
        seed=int(manifest["seed"]),
        start=date.fromisoformat(manifest["start"]),
        end=new_end,
        defect_rate=float(manifest["defect_rate"]),
        # The same kind of store as the province was generated into.
        pg_url=pg_url if servers["postgresql"] else None,
        mysql_url=mysql_url if servers["mariadb"] else None,
        db_prefix=db_prefix,
    )
    staging = sim_dir.with_name(f".{sim_dir.name}.next")
    _check_space(sim_dir, staging, new_end)
    # Sources taken down with `ioc sim down` stay down, and their systems move on too.
    with lifted(sim_dir):
        try:
            generate(staging, params, workers=workers)
            added, replaced, unchanged, removed = sync_tree(staging, sim_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return AdvanceResult(old_end, new_end, added, replaced + removed, unchanged)
