"""``ioc privacy scan``: clean landings give no hit, planted clear personal data always does.

The clean case is the XML 130 fixture inbox landed by the real files connector (its patients'
names, CCCD and BHYT numbers are pseudonymised at landing; two files are quarantined whole). The
planted case writes a Parquet part into the lake and a table into a warehouse file with one
clear value of each kind next to look-alikes that must not count: HMAC pseudonyms (64 hex chars
with digit runs), message ids with 12-digit timestamps, a school named after a person.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from connectors.extract import run_extract
from connectors.privacy import mask, scan
from connectors.pseudonymise import pseudonym
from iochub.cli import app
from iochub.settings import Settings
from simulator.fixtures import seed_xml130_inbox

# Real pseudonyms, plus hex strings built to hold a CCCD- and a phone-shaped digit run.
HMACS = [
    pseudonym(b"k", "087085001234"),
    pseudonym(b"k", "Nguyễn Văn An"),
    "087085001234" + "e" * 52,
    "ab0912345678" + "f" * 52,
]


def test_clean_landing_has_no_hit(home: Settings) -> None:
    seed_xml130_inbox(home.sim_dir)
    manifest = run_extract("health_xml130", home)
    assert sum(manifest.rows_landed.values()) > 0 and manifest.items_quarantined == 2
    hits, skipped = scan(home)
    assert hits == [] and skipped == []
    result = CliRunner().invoke(app, ["privacy", "scan"])
    assert result.exit_code == 0, result.output


def test_planted_values_are_each_found(home: Settings) -> None:
    seed_xml130_inbox(home.sim_dir)
    run_extract("health_xml130", home)
    planted = home.raw_dir / "planted" / "people" / "load_date=2025-01-01" / "x.00001.parquet"
    planted.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "cccd": ["087085001234", *HMACS[:3]],
                "phone": ["ĐT: 0912345678", "+84 not a phone", "WQ-01-202507010100", "x"],
                "full_name": ["Trần Thị Lan", "Trường THPT Nguyễn Văn Tiếp", "Phường Mỹ Tho", None],
                "hashed": HMACS,
                "raw_content": pa.array(
                    [
                        b'{"HO_TEN":"Huynh"}',
                        b"<MA_THE_BHYT>GD4821234567890</MA_THE_BHYT>",
                        b"\xff",
                        None,
                    ],
                    pa.binary(),
                ),
            }
        ),
        planted,
    )
    hits, _ = scan(home)
    found = {(h.column, h.kind): h for h in hits}
    assert set(found) == {
        ("cccd", "citizen_id"),
        ("phone", "phone"),
        ("full_name", "person_name"),
        ("raw_content", "insurance_card"),
    }, hits
    assert all(h.location == str(planted) and h.count == 1 for h in hits)
    assert found[("cccd", "citizen_id")].sample == "087*******34"
    assert found[("full_name", "person_name")].sample == "T… T… L…"
    # Nothing clear is printed, and the command fails.
    result = CliRunner().invoke(app, ["privacy", "scan"])
    assert result.exit_code == 1
    assert "087085001234" not in result.output and "Trần Thị Lan" not in result.output


def test_warehouse_file_is_scanned_read_only(home: Settings) -> None:
    home.warehouse_dir.mkdir(parents=True)
    with duckdb.connect(str(home.serving_db)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.patients (person_key VARCHAR, note VARCHAR, n INTEGER)")
        con.execute(
            "INSERT INTO marts.patients VALUES (?, 'gọi +84912345678', 1), (?, 'ok', 2)",
            HMACS[:2],
        )
    hits, skipped = scan(home)
    assert skipped == []
    assert [(h.location, h.column, h.kind, h.count) for h in hits] == [
        (f"{home.serving_db}:marts.patients", "note", "phone", 1)
    ]
    assert mask("+84912345678") == "+849******78"
