"""docs/kpis.md is generated from the KPI seeds and must be committed up to date; the catalogue
must hold every indicator the demo province writes ground truth for; every indicator's rule set
(kpi_rule_clauses_seed.csv) states its formula, numerator, denominator, period and admin unit,
each clause with a reference or marked as an interpretation with its alternative."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from iochub.kpi_docs import (
    CATALOGUE_SEED,
    CLAUSES_SEED,
    KPI_MODELS,
    TARGETS_SEED,
    Clause,
    docs_path,
    read_catalogue,
    read_clauses,
    read_targets,
    render_kpi_docs,
)
from iochub.settings import REPO_ROOT, get_settings

PROJECT = REPO_ROOT / "dbt_project"
# The ids in the demo province's sim/ground_truth.parquet (docs/demo-province.md; found with
# `grep truth.add simulator` and checked against a generated run).
SIMULATOR_TRUTH_IDS = {
    "766-1.1", "766-1.2", "766-1.3", "766-1.4", "766-2.1", "766-2.2", "766-2.2n", "766-3.1",
    "766-3.2", "766-3.3", "766-3.3r", "766-3.5", "766-3.6", "766-4.1", "766-4.2", "766-4.2f",
    "766-4.3", "766-4.4", "766-4.5a", "766-4.5b", "766-5.2", "766-5.3", "766-5.4",
    "YT-01", "YT-03", "GD-01", "XH-01", "XH-02", "XH-03", "XH-04", "KT-01", "KT-02",
    "OPS-AGRI-PLANTED-AREA-HA", "OPS-AGRI-SYSTEMS-OPERATING", "OPS-ENROLMENT",
    "OPS-HEALTH-BOOKINGS", "OPS-HEALTH-E-MEDICAL-BOOK", "OPS-HEALTH-EPISODES",
    "OPS-HEALTH-FACILITIES-REPORTING", "OPS-HEALTH-REMOTE-BOOKING",
    "OPS-HEALTH-TELEMEDICINE-SESSIONS", "OPS-INSECT-DENSITY-ALERTS", "OPS-IOT-SALINITY-ALERTS",
    "OPS-IOT-STATIONS-REPORTING", "OPS-OCOP-ONLINE", "OPS-OVERDUE-DOSSIERS",
    "OPS-SCHOOLS-DIGITAL", "OPS-SME-ECOM", "DT-01", "DT-02", "DT-03", "DT-04",
    "CQ-01", "CQ-02", "CQ-03",
}  # fmt: skip
# A KPI id quoted in the simulator's code (string literal or docstring literal); a lowercase
# suffix marks a part (4.5a) or an alternative reading published beside an indicator (2.2n).
ID_LITERAL = re.compile(
    r"""["'`](766-\d\.\d[a-z]?|(?:YT|GD|XH|KT|CQ)-\d\d|OPS-[A-Z0-9]+(?:-[A-Z0-9]+)*)["'`]"""
)
# Every indicator states at least these aspects of its rule.
REQUIRED_ASPECTS = {"formula", "numerator", "denominator", "period", "unit"}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _catalogue_ids() -> set[str]:
    return {ind.kpi_id for ind in read_catalogue(PROJECT / CATALOGUE_SEED)}


def _clauses() -> list[Clause]:
    return read_clauses(PROJECT / CLAUSES_SEED)


def _render() -> str:
    return render_kpi_docs(
        PROJECT / CATALOGUE_SEED,
        PROJECT / TARGETS_SEED,
        PROJECT / CLAUSES_SEED,
        PROJECT / KPI_MODELS,
    )


def test_docs_page_is_up_to_date() -> None:
    expected = _render()
    path = docs_path(get_settings())
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == expected, (
        f"{path} is out of date with dbt_project/seeds/kpi; regenerate it with "
        "`python -c 'from iochub.kpi_docs import write_kpi_docs; "
        "from iochub.settings import get_settings; write_kpi_docs(get_settings())'` "
        "(or `ioc docs kpis`) and commit the result"
    )


def test_render_is_deterministic() -> None:
    first = _render()
    assert first == _render()
    assert "### 766-2.1 — On-time processing" in first
    assert "(to be built)" not in first
    # An interpretation published as its own indicator links to it.
    assert (
        "Published as [766-2.2n](#766-22n--mean-processing-time-net-of-supplement-waits)" in first
    )


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
    for seed in (CATALOGUE_SEED, TARGETS_SEED, CLAUSES_SEED):
        text = Path(PROJECT / seed).read_bytes().decode("utf-8")
        assert unicodedata.is_normalized("NFC", text), f"{seed} has text that is not NFC"


def test_every_indicator_has_a_reference_or_an_interpretation() -> None:
    interpreted = {c.kpi_id for c in _clauses() if c.is_interpretation == "true"}
    bare = [
        ind.kpi_id
        for ind in read_catalogue(PROJECT / CATALOGUE_SEED)
        if not ind.reference.strip() and ind.kpi_id not in interpreted
    ]
    assert not bare, f"indicators with neither a reference nor an interpretation clause: {bare}"


def test_every_indicator_states_the_required_aspects() -> None:
    aspects: dict[str, set[str]] = {}
    for clause in _clauses():
        aspects.setdefault(clause.kpi_id, set()).add(clause.aspect)
    missing = {
        kpi_id: sorted(REQUIRED_ASPECTS - aspects.get(kpi_id, set()))
        for kpi_id in sorted(_catalogue_ids())
        if REQUIRED_ASPECTS - aspects.get(kpi_id, set())
    }
    assert not missing, f"rule clauses missing per indicator: {missing}"


def test_clause_ids_are_unique_well_formed_and_ordered() -> None:
    clauses = _clauses()
    ids = [c.clause_id for c in clauses]
    assert len(ids) == len(set(ids)), "duplicate clause ids"
    catalogue = _catalogue_ids()
    ordinals: dict[str, list[int]] = {}
    for clause in clauses:
        kpi_id, _, slug = clause.clause_id.partition("/")
        assert kpi_id == clause.kpi_id, clause.clause_id
        assert SLUG.match(slug), f"{clause.clause_id}: slug must be lowercase words and hyphens"
        assert clause.kpi_id in catalogue, f"{clause.clause_id}: indicator not in the catalogue"
        assert clause.is_interpretation in {"true", "false"}, clause.clause_id
        ordinals.setdefault(clause.kpi_id, []).append(int(clause.ordinal))
    for kpi_id, found in ordinals.items():
        assert sorted(found) == list(range(1, len(found) + 1)), f"{kpi_id}: ordinals {found}"


def test_each_clause_has_a_reference_or_an_alternative() -> None:
    for clause in _clauses():
        if clause.is_interpretation == "true":
            assert clause.alternative.strip(), (
                f"{clause.clause_id}: interpretation without alternative"
            )
            assert clause.alternative_effect.strip(), (
                f"{clause.clause_id}: interpretation without the alternative's effect"
            )
        else:
            assert clause.reference.strip(), f"{clause.clause_id}: no reference"
            assert not clause.alternative and not clause.alternative_kpi_id, (
                f"{clause.clause_id}: an alternative on a clause that is not an interpretation"
            )


def test_alternatives_point_to_catalogue_indicators() -> None:
    catalogue = _catalogue_ids()
    published = {c.clause_id: c.alternative_kpi_id for c in _clauses() if c.alternative_kpi_id}
    assert set(published.values()) <= catalogue, published
    assert published == {
        "766-2.2/elapsed-days": "766-2.2n",
        "766-3.3/sync-factor": "766-3.3r",
        "766-4.2/result-required": "766-4.2f",
    }


def test_short_rules_fit_a_tooltip() -> None:
    for ind in read_catalogue(PROJECT / CATALOGUE_SEED):
        for text in (ind.rule_short_vi, ind.rule_short_en):
            assert text.strip(), f"{ind.kpi_id}: empty short rule"
            assert len(text) <= 140, f"{ind.kpi_id}: short rule of {len(text)} characters"
