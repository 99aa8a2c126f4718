"""docs/kpis.md is generated from the KPI seeds and must be committed up to date; the catalogue
must hold every indicator the demo province writes ground truth for."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from iochub.kpi_docs import (
    CATALOGUE_SEED,
    TARGETS_SEED,
    docs_path,
    read_catalogue,
    read_targets,
    render_kpi_docs,
)
from iochub.settings import REPO_ROOT, get_settings

PROJECT = REPO_ROOT / "dbt_project"
# The ids in the demo province's sim/ground_truth.parquet (docs/demo-province.md; found with
# `grep truth.add simulator` and checked against a generated run).
SIMULATOR_TRUTH_IDS = {
    "766-1.1", "766-1.2", "766-1.3", "766-1.4", "766-2.1", "766-2.2", "766-3.1", "766-3.2",
    "766-3.3", "766-3.5", "766-3.6", "766-4.1", "766-4.2", "766-4.3", "766-4.4", "766-4.5a",
    "766-4.5b", "766-5.2", "766-5.3", "766-5.4",
    "YT-01", "YT-03", "GD-01", "XH-01", "XH-02", "XH-03", "XH-04", "KT-01", "KT-02",
    "OPS-AGRI-PLANTED-AREA-HA", "OPS-AGRI-SYSTEMS-OPERATING", "OPS-ENROLMENT",
    "OPS-HEALTH-BOOKINGS", "OPS-HEALTH-E-MEDICAL-BOOK", "OPS-HEALTH-EPISODES",
    "OPS-HEALTH-FACILITIES-REPORTING", "OPS-HEALTH-REMOTE-BOOKING",
    "OPS-HEALTH-TELEMEDICINE-SESSIONS", "OPS-INSECT-DENSITY-ALERTS", "OPS-IOT-SALINITY-ALERTS",
    "OPS-IOT-STATIONS-REPORTING", "OPS-OCOP-ONLINE", "OPS-OVERDUE-DOSSIERS",
    "OPS-SCHOOLS-DIGITAL", "OPS-SME-ECOM",
}  # fmt: skip
# A KPI id quoted in the simulator's code (string literal or docstring literal).
ID_LITERAL = re.compile(
    r"""["'`](766-\d\.\d[ab]?|(?:YT|GD|XH|KT|CQ)-\d\d|OPS-[A-Z0-9]+(?:-[A-Z0-9]+)*)["'`]"""
)


def _catalogue_ids() -> set[str]:
    return {ind.kpi_id for ind in read_catalogue(PROJECT / CATALOGUE_SEED)}


def test_docs_page_is_up_to_date() -> None:
    expected = render_kpi_docs(PROJECT / CATALOGUE_SEED, PROJECT / TARGETS_SEED)
    path = docs_path(get_settings())
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == expected, (
        f"{path} is out of date with dbt_project/seeds/kpi; regenerate it with "
        "`python -c 'from iochub.kpi_docs import write_kpi_docs; "
        "from iochub.settings import get_settings; write_kpi_docs(get_settings())'` "
        "(or `ioc docs kpis`) and commit the result"
    )


def test_render_is_deterministic() -> None:
    first = render_kpi_docs(PROJECT / CATALOGUE_SEED, PROJECT / TARGETS_SEED)
    assert first == render_kpi_docs(PROJECT / CATALOGUE_SEED, PROJECT / TARGETS_SEED)
    assert "### 766-2.1 — On-time processing" in first


def test_every_ground_truth_id_is_in_the_catalogue() -> None:
    missing = SIMULATOR_TRUTH_IDS - _catalogue_ids()
    assert not missing, f"ground-truth ids missing from the KPI catalogue seed: {sorted(missing)}"


def test_simulator_code_names_no_id_outside_the_list() -> None:
    """A new id in the simulator must be added to the catalogue (and to the list above)."""
    found: set[str] = set()
    for path in (REPO_ROOT / "simulator").rglob("*.py"):
        found |= set(ID_LITERAL.findall(path.read_text(encoding="utf-8")))
    assert found <= SIMULATOR_TRUTH_IDS, (
        f"simulator names KPI ids not listed here: {sorted(found - SIMULATOR_TRUTH_IDS)}; "
        "add them to the KPI catalogue seed and to SIMULATOR_TRUTH_IDS"
    )


def test_demo_flag_matches_the_ground_truth_ids() -> None:
    flagged = {
        ind.kpi_id
        for ind in read_catalogue(PROJECT / CATALOGUE_SEED)
        if ind.supported_by_demo == "true"
    }
    assert flagged == SIMULATOR_TRUTH_IDS


def test_targets_point_to_catalogue_ids() -> None:
    unknown = {t.kpi_id for t in read_targets(PROJECT / TARGETS_SEED)} - _catalogue_ids()
    assert not unknown, f"targets for ids not in the catalogue: {sorted(unknown)}"


def test_seed_text_is_nfc_utf8() -> None:
    for seed in (CATALOGUE_SEED, TARGETS_SEED):
        text = Path(PROJECT / seed).read_bytes().decode("utf-8")
        assert unicodedata.is_normalized("NFC", text), f"{seed} has text that is not NFC"
