"""``ioc sim advance``: the clock moves, new data appears, settled data is left untouched."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from simulator.advance import advance, sync_tree
from simulator.generate import GenerateParams, generate


def test_sync_tree_touches_only_what_differs(tmp_path: Path) -> None:
    source, target = tmp_path / "next", tmp_path / "sim"
    for folder in (source, target):
        (folder / "a").mkdir(parents=True)
    (source / "a" / "same.txt").write_text("x")
    (target / "a" / "same.txt").write_text("x")
    (source / "a" / "grown.csv").write_text("1\n2\n")
    (target / "a" / "grown.csv").write_text("1\n")
    (source / "a" / "new.xml").write_text("<n/>")
    (target / "a" / "stale.tmp").write_text("gone")
    before = (target / "a" / "same.txt").stat().st_mtime_ns

    added, replaced, unchanged, removed = sync_tree(source, target)

    assert (added, replaced, unchanged, removed) == (
        ["a/new.xml"],
        ["a/grown.csv"],
        1,
        ["a/stale.tmp"],
    )
    assert (target / "a" / "grown.csv").read_text() == "1\n2\n"
    assert (target / "a" / "same.txt").stat().st_mtime_ns == before


def test_advance_adds_days_and_keeps_settled_files(tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    e1 = date(2025, 6, 30)
    generate(sim, GenerateParams(scale=0.002, seed=5, start=date(2025, 6, 1), end=e1))
    inbox = sim / "health" / "xml130" / "inbox"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in inbox.rglob("*.xml")}
    with sqlite3.connect(sim / "public_services" / "one_stop.sqlite") as con:
        dossiers_before = con.execute("select count(*) from HoSo").fetchone()[0]

    result = advance(sim, hours=10 * 24 - 5, pg_url=None, mysql_url=None, db_prefix="simtest_")

    assert (result.old_end, result.new_end) == (e1, date(2025, 7, 10))
    assert json.loads((sim / "manifest.json").read_text())["end"] == "2025-07-10"
    for path, (content, mtime) in before.items():  # nothing settled was rewritten
        assert path.read_bytes() == content, path
        assert path.stat().st_mtime_ns == mtime, path
    new_days = {p.parent.name for p in inbox.rglob("*.xml") if p not in before}
    assert new_days and min(new_days) > "20250630" and max(new_days) <= "20250710"
    with sqlite3.connect(sim / "public_services" / "one_stop.sqlite") as con:
        assert con.execute("select count(*) from HoSo").fetchone()[0] > dossiers_before
    periods = set(pq.read_table(sim / "ground_truth.parquet").column("period").to_pylist())
    assert "2025-07" in periods


def test_advance_needs_a_province(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="ioc sim generate"):
        advance(tmp_path / "sim", 24, None, None, "simtest_")


def test_advance_refuses_when_the_staging_copy_cannot_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    from collections import namedtuple

    from simulator import advance as module

    sim = tmp_path / "sim"
    sim.mkdir()
    (sim / "manifest.json").write_text(
        json.dumps(
            {
                "start": "2025-06-01",
                "end": "2025-06-30",
                "scale": 0.01,
                "seed": 7,
                "defect_rate": 0.0,
                "servers": {"postgresql": False, "mariadb": False},
            }
        )
    )
    (sim / "inbox.bin").write_bytes(b"x" * 5000)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 10**9 - 4000, 4000))
    with pytest.raises(module.NotEnoughSpace, match=r"2025-07-01 .* GB free beside"):
        advance(sim, 24, None, None, "simtest_")
    assert not (tmp_path / ".sim.next").exists()  # refused before generating anything
