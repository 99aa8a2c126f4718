"""`ioc quarantine list|show|release`: a refused file and a refused row land once the
declaration is widened, exactly once, and stay put while it is not."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from connectors.extract import run_extract
from connectors.quarantine import ReleaseError, all_entries, release
from connectors.registry import load_registry
from iochub.cli import app
from iochub.settings import Settings, get_settings
from tests.windows_1258 import encode as windows_1258

REGISTRY = """
name: stations
sector: iot
title: "t"
owner: "o"
kind: files
connection: {{env: IOC_TEST_STATIONS, default: "{inbox}"}}
schedule: "@daily"
freshness_hours: 24
files: {{format: csv, pattern: "*.csv"{encoding}}}
tables:
  - name: stations
    title: "s"
    pattern: "*.csv"
    primary_key: [code]
    columns:
      code: {{required: true}}
      kind: {{codes: [{codes}]}}
      owner_name: {{}}
    pii: {{owner_name: hmac}}
"""


def _declare(root: Path, codes: str, encoding: str) -> None:
    text = REGISTRY.format(inbox=root / "inbox", codes=codes, encoding=encoding)
    (root / "sources" / "iot" / "stations.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def landed(home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    (tmp_path / "sources" / "iot").mkdir(parents=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # A station of a kind the list does not know yet, and a file in Windows-1258 while the
    # declaration says UTF-8.
    (inbox / "a.csv").write_text(
        "code,kind,owner_name\nWQ-01,water,Lê Văn A\nAQ-01,air,Trần Thị B\n", encoding="utf-8"
    )
    (inbox / "b.csv").write_bytes(windows_1258("code,kind,owner_name\nWQ-02,water,Võ Văn C\n"))
    _declare(tmp_path, '"water"', ', encoding: "utf-8"')
    monkeypatch.setenv("IOC_SOURCES_DIR", str(tmp_path / "sources"))
    settings = get_settings()
    manifest = run_extract("stations", settings)
    assert (manifest.items_quarantined, manifest.rows_quarantined) == (1, {"stations": 1})
    return settings


def _landed_codes(settings: Settings) -> list[tuple[str, str]]:
    glob = settings.raw_dir / "stations" / "stations" / "*" / "*.parquet"
    return duckdb.sql(
        f"select code, owner_name from read_parquet('{glob}', union_by_name = true) order by code"
    ).fetchall()


def test_list_and_show_say_what_was_refused_and_what_to_do(landed: Settings) -> None:
    result = CliRunner().invoke(app, ["quarantine", "list"])
    assert result.exit_code == 0, result.output
    assert "stations.(file): undecodable × 1" in result.output
    assert "stations.stations: not_in_code_list × 1" in result.output

    row = next(e for e in all_entries(landed, ["stations"]) if e.table is not None)
    shown = CliRunner().invoke(app, ["quarantine", "show", row.id[:8]])
    assert shown.exit_code == 0, shown.output
    assert "or an alias" in shown.output
    assert '"AQ-01"' in shown.output and "Trần Thị B" not in shown.output  # pseudonymised


def test_release_lands_once_after_the_declaration_is_widened(
    landed: Settings, tmp_path: Path
) -> None:
    source = load_registry(landed)["stations"]
    entries = all_entries(landed, ["stations"])
    with pytest.raises(ReleaseError, match="still"):
        release(source, landed, entries)  # nothing widened yet: nothing moves
    assert len(_landed_codes(landed)) == 1

    # The new kind listed; the file's encoding declared as what the station software writes.
    _declare(tmp_path, '"water", "air"', ', encoding: "windows-1258"')
    result = CliRunner().invoke(app, ["quarantine", "release", "--source", "stations"])
    assert result.exit_code == 0, result.output

    landed_rows = _landed_codes(landed)
    assert [code for code, _ in landed_rows] == ["AQ-01", "WQ-01", "WQ-02"]
    pseudonyms = {code: owner for code, owner in landed_rows}
    from connectors.pseudonymise import pseudonym

    # The released row keeps the pseudonym it had, not a hash of the hash.
    assert pseudonyms["AQ-01"] == pseudonym(landed.pii_key, "Trần Thị B")
    assert pseudonyms["WQ-02"] == pseudonym(landed.pii_key, "Võ Văn C")
    assert all(e.released_by for e in all_entries(landed, ["stations"]))

    again = CliRunner().invoke(
        app, ["quarantine", "release", *[e.id for e in entries]], catch_exceptions=False
    )
    assert "already released" in again.output
    assert len(_landed_codes(landed)) == 3  # nothing landed twice
    assert run_extract("stations", landed).items_in == 0  # nor read again from the inbox
