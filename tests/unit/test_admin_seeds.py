"""The committed admin-unit seeds are what geo/admin_seeds.py builds from the package today."""

import csv
from pathlib import Path

import pytest

from geo.admin_seeds import CORRECTIONS_FILE, build_admin_seeds, load_corrections

SEED_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "admin"


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("admin_seeds")
    build_admin_seeds(out)
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_committed_seeds_are_up_to_date(rebuilt: Path) -> None:
    built = sorted(p.name for p in rebuilt.glob("*.csv"))
    assert built == sorted(p.name for p in SEED_DIR.glob("*.csv"))
    for name in built:
        assert (rebuilt / name).read_bytes() == (SEED_DIR / name).read_bytes(), (
            f"{name} is out of date: run `ioc geo admin-seeds` and review the diff"
        )


def test_crosswalk_covers_every_old_commune_once_by_default() -> None:
    legacy = {r["commune_code"] for r in _read(SEED_DIR / "admin_unit_legacy.csv")}
    current = {r["commune_code"] for r in _read(SEED_DIR / "admin_unit_2025.csv")}
    rows = _read(SEED_DIR / "admin_crosswalk.csv")
    assert len(legacy) == 305 and len(current) == 102
    assert {r["legacy_commune_code"] for r in rows} == legacy
    defaults = [r["legacy_commune_code"] for r in rows if r["is_default_target"] == "true"]
    assert sorted(defaults) == sorted(legacy)
    assert {r["new_commune_code"] for r in rows if r["is_default_target"] == "true"} == current


def test_every_correction_is_applied() -> None:
    corrections = load_corrections(CORRECTIONS_FILE)["corrections"]
    rows = _read(SEED_DIR / "admin_crosswalk.csv")
    assert len(corrections) >= 6
    for entry in corrections:
        mine = [r for r in rows if r["legacy_commune_code"] == entry["legacy_commune_code"]]
        assert sorted(r["new_commune_code"] for r in mine) == sorted(entry["we_use"]["targets"])
        assert all(r["correction_id"] == entry["id"] for r in mine)
        assert entry["target"] not in {r["new_commune_code"] for r in mine}
        assert entry["reason"].strip()
    applied = {r["correction_id"] for r in rows if r["correction_id"]}
    assert applied == {entry["id"] for entry in corrections}
