"""A build redoes only what the sources that landed since the last build change: the plan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from iochub.build_plan import EVERY_BUILD, UNIT_TESTS, plan_build, record_build, state_path
from iochub.settings import Settings, get_settings


def _commit(settings: Settings, source: str, run_id: str) -> None:
    """A committed run of ``source``: its manifest, as landing writes it last."""
    folder = settings.manifest_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_id}.json").write_text(json.dumps({"source": source, "run_id": run_id}))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    sources = tmp_path / "sources"
    shutil.copytree(get_settings().sources_dir, sources)
    monkeypatch.setenv("IOC_SOURCES_DIR", str(sources))
    settings = get_settings()
    _commit(settings, "health_xml130", "20250601T010000000000Z-aaaaaa")
    _commit(settings, "iot_mqtt", "20250601T010500000000Z-bbbbbb")
    return settings


def _built(settings: Settings) -> None:
    """A build warehouse exists and the plan made now is recorded as built."""
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    settings.build_db.touch()
    record_build(settings, plan_build(settings))


def test_without_a_build_every_model_is_rebuilt_whole(settings: Settings) -> None:
    plan = plan_build(settings)
    assert plan.full_refresh
    assert plan.reason == "no build warehouse yet"
    assert plan.dbt_arguments() == ["--full-refresh"]
    settings.build_db.parent.mkdir(parents=True)
    settings.build_db.touch()
    assert plan_build(settings).reason == "no earlier build recorded"


def test_only_the_sources_with_new_runs_are_selected(settings: Settings) -> None:
    _built(settings)
    quiet = plan_build(settings)
    assert not quiet.full_refresh
    assert quiet.changed_sources == []
    # the clock still moves; the unit tests' fixed rows do not
    assert quiet.dbt_arguments() == ["--select", EVERY_BUILD, "--exclude", UNIT_TESTS]

    _commit(settings, "iot_mqtt", "20250601T020000000000Z-cccccc")
    _commit(settings, "agri_dt03", "20250601T020100000000Z-dddddd")  # its first run
    plan = plan_build(settings)
    assert plan.changed_sources == ["agri_dt03", "iot_mqtt"]
    assert plan.dbt_arguments() == [
        "--select",
        "source:agri_dt03+",
        "source:iot_mqtt+",
        EVERY_BUILD,
        "--exclude",
        UNIT_TESTS,
    ]


def test_a_build_that_did_not_finish_leaves_its_sources_for_the_next(settings: Settings) -> None:
    _built(settings)
    _commit(settings, "iot_mqtt", "20250601T020000000000Z-cccccc")
    assert plan_build(settings).changed_sources == ["iot_mqtt"]  # planned, dbt failed: no record
    _commit(settings, "health_xml130", "20250601T030000000000Z-eeeeee")
    assert plan_build(settings).changed_sources == ["health_xml130", "iot_mqtt"]
    record_build(settings, plan_build(settings))
    assert plan_build(settings).changed_sources == []


def test_a_changed_registry_or_project_rebuilds_everything(settings: Settings) -> None:
    _built(settings)
    declaration = next(settings.sources_dir.rglob("health_xml130.yaml"))
    declaration.write_text(declaration.read_text() + "\n# a comment is a change too\n")
    plan = plan_build(settings)
    assert plan.full_refresh
    assert plan.reason == "the dbt project or the source registry changed"
    record_build(settings, plan)
    assert not plan_build(settings).full_refresh
    assert plan_build(settings, full_refresh=True).reason == "asked for"


def test_an_unreadable_record_rebuilds_everything(settings: Settings) -> None:
    _built(settings)
    state_path(settings).write_text("{not json")
    assert plan_build(settings).reason == "no earlier build recorded"


def test_the_record_counts_runs_instead_of_listing_them(settings: Settings) -> None:
    for minute in range(10, 40):  # a listener's runs, one a minute
        _commit(settings, "iot_mqtt", f"20250601T01{minute:02d}00000000Z-{minute:06d}")
    _built(settings)
    recorded = json.loads(state_path(settings).read_text())
    assert recorded["run_counts"] == {"health_xml130": 1, "iot_mqtt": 31}
    assert recorded["newest_runs"]["iot_mqtt"] == "20250601T013900000000Z-000039"
    assert "runs" not in recorded
    # A run whose id sorts before the newest (a clock set back) still changes the count.
    _commit(settings, "iot_mqtt", "20250601T000000000000Z-ffffff")
    assert plan_build(settings).changed_sources == ["iot_mqtt"]


def test_a_record_of_an_earlier_version_selects_every_source(settings: Settings) -> None:
    _built(settings)
    state_path(settings).write_text(
        json.dumps({"project_digest": plan_build(settings).project_digest, "runs": {}})
    )
    plan = plan_build(settings)
    assert not plan.full_refresh
    assert plan.changed_sources == ["health_xml130", "iot_mqtt"]
