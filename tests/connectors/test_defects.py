"""Every defect the demo province injected is caught at landing with the right reason, and no
clean record is quarantined.

The simulator logs each defect with its source and record key (``sim/defects.parquet``); the
landing contract must reject exactly the records a real IOC must not publish. Defects that are
not a reason to reject a record (old admin codes, NFD text, duplicates, late arrivals, drift)
are handled downstream and must land.
"""

from __future__ import annotations

import duckdb

from connectors.landing import read_manifests
from iochub.settings import Settings

# defect kind → quarantine reason, for the kinds a record (or a whole file) is rejected for.
REJECTED = {
    "malformed_xml": "malformed_xml",
    "invalid_base64": "invalid_base64",
    "future_date": "future_date",
    "impossible_date": "impossible_date",
    "negative_amount": "negative_amount",
    "unknown_admin_code": "unknown_admin_code",
}
FILE_LEVEL = {"malformed_xml", "invalid_base64"}


def test_xml130_defects_are_quarantined_with_their_reason(province_warehouse: Settings) -> None:
    """Read from the session's landing (``province_warehouse`` landed every source once):
    landing the province's claim files again here would cost minutes for nothing."""
    lake_home = province_warehouse
    lake = lake_home.lake_dir
    quarantined = [
        str(lake / manifest.quarantine_path)
        for manifest in read_manifests(lake_home, "health_xml130")
        if manifest.quarantine_path
    ]
    assert quarantined, "nothing of the claim files was quarantined"
    con = duckdb.connect()
    defects = con.execute(
        "SELECT kind, record_key FROM read_parquet(?) WHERE source = 'xml130'",
        [str(lake_home.sim_dir / "defects.parquet")],
    ).fetchall()
    quarantine = con.execute(
        "SELECT reason, item, table_name FROM read_parquet(?, union_by_name = true)",
        [quarantined],
    ).fetchall()
    landed = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT MA_LK FROM read_parquet(?)",
            [str(lake / "raw/health_xml130/xml1/*/*.parquet")],
        ).fetchall()
    }
    rejected_files = {item.rsplit("/", 1)[-1] for reason, item, table in quarantine if not table}
    rejected_rows = {
        item.rsplit("|", 1)[-1]: reason for reason, item, table in quarantine if table == "xml1"
    }
    facilities_with_rejected_files = {name.split("_")[1] for name in rejected_files}

    expected = [(kind, key) for kind, key in defects if kind in REJECTED]
    assert expected, "the province injected no rejectable defects: the test would prove nothing"
    for kind, key in expected:
        if kind in FILE_LEVEL:
            assert key in rejected_files, f"{kind} file {key} was not quarantined"
            continue
        assert key not in landed, f"{kind} record {key} reached the lake"
        if key in rejected_rows:
            assert rejected_rows[key] == REJECTED[kind], f"{key}: {rejected_rows[key]} ≠ {kind}"
        else:
            # The record sat in a file that was rejected whole for another defect.
            assert key[:5] in facilities_with_rejected_files, f"{kind} record {key} vanished"

    # Nothing clean was rejected: every quarantined record or file is a logged defect.
    logged = {key for _, key in expected}
    assert set(rejected_rows) <= logged
    assert rejected_files <= logged
    # Defects that are not a reason to reject: the record must have landed.
    for kind, key in defects:
        if kind in {"outdated_admin_code", "nfd_text"} and key not in logged:
            assert key in landed or key[:5] in facilities_with_rejected_files, (kind, key)
