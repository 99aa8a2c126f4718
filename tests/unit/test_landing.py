"""The files connector on the fixture inbox: counts in = landed + quarantined, nothing clear."""

import json

import pyarrow.parquet as pq
import pytest

from connectors.extract import run_extract
from connectors.landing import read_manifests
from connectors.pseudonymise import pseudonym
from iochub.settings import Settings
from simulator.fixtures import seed_xml130_inbox
from tests.fixtures_truth import CLEAR_PII, DRUG_LINES, QUARANTINED, VALID_EPISODES


def test_extract_lands_valid_rows_and_quarantines_bad_files(home: Settings) -> None:
    seed_xml130_inbox(home.sim_dir)
    manifest = run_extract("health_xml130", home)

    assert manifest.items_in == 5
    assert manifest.items_landed == 3
    assert manifest.items_quarantined == 2
    # The fixture carries no XML3, XML4 and no referred episode: those are read, with no rows.
    assert manifest.rows_in == {
        "xml1": VALID_EPISODES,
        "xml2": DRUG_LINES,
        "xml3": 0,
        "xml4": 0,
        "xml13": 0,
    }
    assert manifest.rows_landed == {"xml1": VALID_EPISODES, "xml2": DRUG_LINES}

    xml1 = pq.read_table(home.lake_dir / manifest.tables[0].path)
    assert xml1.num_rows == VALID_EPISODES
    assert "load_date=" in manifest.tables[0].path

    quarantine = pq.read_table(home.lake_dir / str(manifest.quarantine_path)).to_pylist()
    assert {q["item"]: q["reason"] for q in quarantine} == QUARANTINED
    inbox = home.sim_dir / "health/xml130/inbox"
    for row in quarantine:  # the raw file is kept whole
        assert row["raw_content"] == (inbox / row["item"]).read_bytes()

    saved = json.loads(
        (home.manifest_dir / "health_xml130" / f"{manifest.run_id}.json").read_text()
    )
    assert saved["items_in"] == saved["items_landed"] + saved["items_quarantined"]


def test_personal_data_is_pseudonymised_before_landing(home: Settings) -> None:
    seed_xml130_inbox(home.sim_dir)
    manifest = run_extract("health_xml130", home)
    rows = pq.read_table(home.lake_dir / manifest.tables[0].path).to_pylist()
    by_id = {r["MA_LK"]: r for r in rows}
    first = by_id["870012508050001"]
    assert first["SO_CCCD"] == pseudonym(home.pii_key, "087085001234")
    assert first["NGAY_SINH"] == "1985"
    for path in (home.lake_dir / "raw").rglob("*.parquet"):
        blob = path.read_bytes()
        text = pq.read_table(path).to_pandas().to_csv()
        for clear in CLEAR_PII:
            assert clear not in text, f"{clear} in clear in {path}"
            assert clear.encode() not in blob


def test_rerun_loads_nothing_twice(home: Settings) -> None:
    seed_xml130_inbox(home.sim_dir)
    run_extract("health_xml130", home)
    again = run_extract("health_xml130", home)
    assert again.items_in == 0
    assert again.tables == []
    assert len(read_manifests(home, "health_xml130")) == 2


def test_resent_file_under_another_name_is_not_loaded_again(home: Settings) -> None:
    inbox = seed_xml130_inbox(home.sim_dir)
    run_extract("health_xml130", home)
    original = next(inbox.rglob("GIAMDINHHS_87001_20250805_01.xml"))
    (original.parent / "resent_copy.xml").write_bytes(original.read_bytes())
    assert run_extract("health_xml130", home).items_in == 0


def test_files_of_a_run_that_never_committed_are_swept(home: Settings) -> None:
    seed_xml130_inbox(home.sim_dir)
    orphan = home.raw_dir / "health_xml130/xml1/load_date=2026-01-01/19990101T000000Z-dead.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half-written")
    manifest = run_extract("health_xml130", home)
    assert not orphan.exists()
    assert manifest.rows_landed["xml1"] == VALID_EPISODES


def test_every_declared_column_is_readable_whatever_the_parts_carried(home: Settings) -> None:
    # A part landed before MA_LOAI_RV was declared (or from files that all omitted it): dbt's
    # staging reads the folder by name, so the column must come from somewhere: the placeholder.
    import duckdb
    import pyarrow as pa

    from connectors.landing import PLACEHOLDER, write_placeholders
    from connectors.registry import load_registry

    source = load_registry(home)["health_xml130"]
    folder = home.raw_dir / "health_xml130" / "xml1"
    part = folder / "load_date=2025-07-01" / "20250701T000000000000Z-abcdef.00001.parquet"
    part.parent.mkdir(parents=True)
    pq.write_table(pa.table({"MA_LK": ["LK1"], "MA_CSKCB": ["87001"]}), part)

    written = write_placeholders(home, [source])
    assert folder / "load_date=1970-01-01" / PLACEHOLDER in written
    assert write_placeholders(home, [source]) == []  # unchanged declaration: nothing rewritten

    # The glob and options of the generated dbt sources (iochub/dbt_sources.py).
    rows = duckdb.sql(
        f"select MA_LK, MA_LOAI_RV, T_BNCCT, _file_created_on from read_parquet("
        f"'{folder}/*/*.parquet', hive_partitioning = true, union_by_name = true)"
    ).fetchall()
    assert rows == [("LK1", None, None, None)]


def test_many_small_batches_are_joined_as_they_arrive(
    home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    from connectors import landing
    from connectors.registry import load_registry

    spec = load_registry(home)["one_stop"].tables[0]
    writer = landing.BatchWriter(home, "one_stop", flush_rows=10**9)
    handed: list[pa.Table] = []
    monkeypatch.setattr(writer, "_check_and_write", lambda _spec, batch: handed.append(batch))
    batches = []
    for i in range(3 * landing.COALESCE_BATCHES + 7):  # a file's worth each, columns that vary
        row = {"id": str(i), "note": None if i % 3 else f"n{i}"}
        if i % 5 == 0:
            row["extra"] = "x"
        batches.append(landing.records_to_arrow([row]))
        writer.land(spec, batches[-1])
        assert len(writer._buffers[spec.name][1]) <= 3 + landing.COALESCE_BATCHES
    writer._flush(spec.name)
    (joined,) = handed
    expected = pa.concat_tables(batches, promote_options="permissive")
    assert joined.schema == expected.schema
    assert joined.to_pylist() == expected.to_pylist()  # the same rows, in the same order
    assert all(column.num_chunks == 1 for column in joined.columns)
