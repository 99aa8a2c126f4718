"""The simulator's shared core: admin frame, random streams, defect log and ground truth."""

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from simulator.frame import AdminFrame
from simulator.records import DefectLog, GroundTruth
from simulator.rng import stream


def test_frame_has_both_structures_and_maps_every_old_commune() -> None:
    frame = AdminFrame(seed=1)
    assert len(frame.old_communes) == 305  # 141 old Đồng Tháp + 164 old Tiền Giang
    assert {c.province_code for c in frame.old_communes} == {"82", "87"}
    assert sum(c.province_code == "87" for c in frame.old_communes) == 141
    assert len(frame.new_communes) == 102
    new_codes = {c.code for c in frame.new_communes}
    assert {c.new_code for c in frame.old_communes} == new_codes  # every new commune is reached
    # A split old commune goes to the package's default target (admin_units.md: Gáo Giồng).
    gao_giong = next(c for c in frame.old_communes if c.name == "Xã Gáo Giồng")
    assert frame.new(gao_giong.new_code).name == "Xã Phong Mỹ"


def test_codes_sent_change_on_1_july_2025() -> None:
    frame = AdminFrame(seed=1)
    old = next(c for c in frame.old_communes if c.province_code == "87")
    assert frame.codes_on(old.code, date(2025, 6, 30)) == ("87", old.district_code, old.code)
    assert frame.codes_on(old.code, date(2025, 7, 1)) == ("82", None, old.new_code)


def test_population_keeps_the_census_totals_and_is_seeded() -> None:
    a, b, c = AdminFrame(1), AdminFrame(1), AdminFrame(2)
    for frame in (a, c):
        by_province = {"82": 0, "87": 0}
        for commune, people in zip(frame.old_communes, frame.population, strict=True):
            by_province[commune.province_code] += int(people)
        assert by_province["87"] == pytest.approx(1_600_000, abs=141)
        assert by_province["82"] == pytest.approx(1_760_000, abs=164)
    assert (a.population == b.population).all()
    assert (a.population != c.population).any()


def test_streams_are_independent_of_order() -> None:
    first = stream(5, "health", "day", 1).random(3)
    stream(5, "other").random(100)
    assert (stream(5, "health", "day", 1).random(3) == first).all()
    assert (stream(5, "health", "day", 2).random(3) != first).all()


def test_defect_log_rejects_unknown_kinds_and_writes_parquet(tmp_path: Path) -> None:
    log = DefectLog(tmp_path / "defects.parquet")
    log.log("health_xml130", "k1", "invalid_base64", "XML2 payload", date(2025, 1, 2))
    with pytest.raises(ValueError, match="unknown defect kind"):
        log.log("x", "k", "typo", "", date(2025, 1, 2))
    log.close()
    rows = pq.read_table(tmp_path / "defects.parquet").to_pylist()
    assert rows == [
        {
            "source": "health_xml130",
            "record_key": "k1",
            "kind": "invalid_base64",
            "detail": "XML2 payload",
            "day": date(2025, 1, 2),
        }
    ]


def test_ground_truth_sums_integers_and_divides_once(tmp_path: Path) -> None:
    truth = GroundTruth()
    truth.add("766-2.1", "2025-08", "commune", "29869", "2025", 2, 3)
    truth.add("766-2.1", "2025-08", "commune", "29869", "2025", 1, 3)
    truth.add("YT-01", "2025-08", "commune", "29869", "2025", 0, 0)
    assert truth.write(tmp_path / "t.parquet") == 2
    rows = {r["kpi_id"]: r for r in pq.read_table(tmp_path / "t.parquet").to_pylist()}
    assert (rows["766-2.1"]["numerator"], rows["766-2.1"]["denominator"]) == (3, 6)
    assert rows["766-2.1"]["value"] == 0.5
    assert rows["YT-01"]["value"] is None  # no denominator: no data, not zero
