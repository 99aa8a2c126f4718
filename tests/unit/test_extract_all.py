"""Every source is attempted: one source's failure, expected or not, never stops the others.

A registry of three small file sources written here: one that lands, one whose row rule names a
column it does not declare (a DuckDB Binder error, which used to escape `ioc extract --all`), and
one whose file pattern pathlib refuses at run time (an error type iochub does not expect).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.registry import load_registry
from iochub.cli import app
from iochub.pipeline import extract_all
from iochub.settings import Settings, get_settings

SOURCE = """
name: {name}
sector: iot
title: "t"
owner: "o"
kind: files
connection: {{env: IOC_TEST_INBOX_{upper}, default: "{inbox}"}}
schedule: "@daily"
freshness_hours: 24
files: {{format: csv, pattern: "{pattern}"}}
tables:
  - name: readings
    title: "r"
    pattern: "*.csv"
    primary_key: [station]
    columns:
      station: {{required: true}}
      value: {{type: decimal}}
    checks: [{{reason: negative_value, rule: "{rule}"}}]
"""


def _registry(root: Path) -> Path:
    sources = root / "sources" / "iot"
    sources.mkdir(parents=True)
    for name, pattern, rule in (
        ("a_broken_rule", "*.csv", "valu >= 0"),  # a typo: no such column
        ("b_lands", "*.csv", "value >= 0"),
        ("c_bad_pattern", "/abs/*.csv", "value >= 0"),  # pathlib: non-relative pattern
    ):
        inbox = root / "inbox" / name
        inbox.mkdir(parents=True)
        (inbox / "day.csv").write_text("station,value\nWQ-01,1.5\nWQ-02,-3\n", encoding="utf-8")
        text = SOURCE.format(name=name, upper=name.upper(), inbox=inbox, pattern=pattern, rule=rule)
        (sources / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root / "sources"


@pytest.fixture
def three_sources(home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("IOC_SOURCES_DIR", str(_registry(tmp_path)))
    return get_settings()


def test_every_source_is_attempted_and_each_failure_recorded(three_sources: Settings) -> None:
    seen: list[str] = []
    outcome = extract_all(three_sources, on_done=lambda name, _: seen.append(name))

    assert seen == ["a_broken_rule", "b_lands", "c_bad_pattern"]
    assert outcome.manifests["b_lands"].rows_landed == {"readings": 1}
    assert outcome.manifests["b_lands"].rows_quarantined == {"readings": 1}
    broken = outcome.failures["a_broken_rule"]
    assert broken.expected and broken.error_type == "DeclarationError"
    assert "readings" in broken.message and "valu" in broken.message
    assert not outcome.failures["c_bad_pattern"].expected  # a bug of ours: traceback logged
    for name in ("a_broken_rule", "c_bad_pattern"):
        (record,) = (three_sources.failure_dir / name).glob("*.json")
        assert json.loads(record.read_text())["source"] == name


def test_cli_extract_all_lands_the_rest_then_exits_non_zero_with_a_summary(
    three_sources: Settings,
) -> None:
    result = CliRunner().invoke(app, ["extract", "--all"])

    assert result.exit_code == 1
    assert "2 of 3 source(s) failed" in result.output
    summary = result.output[result.output.index("extract summary") :]
    for name, status in (("a_broken_rule", "FAILED"), ("b_lands", "landed")):
        line = next(line for line in summary.splitlines() if name in line)
        assert status in line
    assert "1 / 1" in summary  # b_lands: one row landed, one quarantined
    assert "b_lands" in load_registry(three_sources)
    assert list((three_sources.manifest_dir / "b_lands").glob("*.json"))


def test_sources_validate_names_the_rule_that_cannot_run(three_sources: Settings) -> None:
    result = CliRunner().invoke(app, ["sources", "validate"])
    assert result.exit_code == 1
    assert "a_broken_rule: table readings" in result.output
