"""The KPI catalogue page, ``docs/kpis.md``, generated from the dbt seeds.

The catalogue, the rule set and the targets live as three hand-maintained dbt seeds
(``dbt_project/seeds/kpi/kpi_catalogue_seed.csv``, ``kpi_rule_clauses_seed.csv`` and
``kpi_targets_seed.csv``, every value taken from ``../shared/domain/kpis.md``,
``province_facts.md``, the texts they cite and the SQL that applies them); the marts
``kpi_catalogue``, ``kpi_rule_clauses`` and ``kpi_targets`` expose them typed in the warehouse.
This module renders the same files as the human-readable page, so the page can never say
something the warehouse does not: :func:`render_kpi_docs` is pure (CSV in, Markdown out) and
:func:`write_kpi_docs` writes ``docs/kpis.md``. ``tests/unit/test_kpi_docs.py`` fails when the
committed page is stale.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from iochub.settings import Settings

CATALOGUE_SEED = Path("seeds") / "kpi" / "kpi_catalogue_seed.csv"
TARGETS_SEED = Path("seeds") / "kpi" / "kpi_targets_seed.csv"
CLAUSES_SEED = Path("seeds") / "kpi" / "kpi_rule_clauses_seed.csv"
# The KPI contract's input models: the ids each emits are its kpi_id column's accepted values.
KPI_MODELS = Path("models") / "intermediate" / "kpi"
# The aspects that make the reading of an indicator itself; an interpretation there earns the
# ※ mark (kpi_catalogue.has_interpretation says the same). Shared conventions (admin unit,
# period, duplicates, source data) are listed per clause but would mark nearly every indicator.
READING_ASPECTS = frozenset(
    {"formula", "numerator", "denominator", "unfinished", "pauses", "scoring"}
)


def _reading_interpreted(clauses: list[Clause]) -> bool:
    return any(c.interpretation and c.aspect in READING_ASPECTS for c in clauses)


FACT_MODEL = "marts.fct_kpi_value"
CONTRIBUTION_MODEL = "marts.fct_kpi_contribution"
# The indicators whose per-record contributions fct_kpi_contribution holds (one row per dossier
# or petition: models/intermediate/kpi/int_kpi__public_services__contributions.sql). 766-3.3 has
# none of its own: it is 766-3.3r × 766-1.4 of the unit and month.
CONTRIBUTION_KPIS = frozenset(
    {
        "766-1.4", "766-2.1", "766-2.2", "766-2.2n", "766-3.3r", "766-3.6", "766-4.1", "766-4.2",
        "766-4.2f", "766-4.3", "766-4.4", "766-4.5b", "766-5.2", "766-5.3", "766-5.4",
    }
)  # fmt: skip
PRODUCT_KPIS = {"766-3.3": ("766-3.3r", "766-1.4")}

GROUPS: dict[str, str] = {
    "766-1": "QĐ 766 group 1: transparency (18 points)",
    "766-2": "QĐ 766 group 2: processing progress (20 points)",
    "766-3": "QĐ 766 group 3: online services (22 points)",
    "766-4": "QĐ 766 group 4: digitisation (22 points)",
    "766-5": "QĐ 766 group 5: satisfaction (18 points)",
    "dti": "National digital-transformation targets the DTI tracks",
    "province": "The province's own indicators and targets",
    "ops": "Operational indicators for the wall (the IOC's own)",
}
DIRECTIONS = {"higher_is_better": "higher is better", "lower_is_better": "lower is better"}


@dataclass(frozen=True)
class Indicator:
    """One row of the catalogue seed, as text (the seed's column names)."""

    kpi_id: str
    group_code: str
    name_vi: str
    name_en: str
    formula: str
    numerator_definition: str
    denominator_definition: str
    source_decision: str
    sector: str
    unit: str
    direction: str
    scoring_kind: str
    scoring_rule: str
    threshold: str
    max_points: str
    periodicity: str
    supported_by_demo: str
    demo_note: str
    reference: str
    rule_short_vi: str
    rule_short_en: str
    reconciliation_threshold: str


@dataclass(frozen=True)
class Clause:
    """One row of the rule-clause seed, as text."""

    clause_id: str
    kpi_id: str
    ordinal: str
    aspect: str
    rule_en: str
    rule_vi: str
    reference: str
    is_interpretation: str
    alternative: str
    alternative_kpi_id: str
    alternative_effect: str

    @property
    def interpretation(self) -> bool:
        return self.is_interpretation == "true"


@dataclass(frozen=True)
class Target:
    """One row of the targets seed, as text."""

    kpi_id: str
    area_code: str
    target_year: str
    target_value: str
    comparison: str
    source_document: str
    note: str


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_catalogue(path: Path) -> list[Indicator]:
    """The catalogue seed's rows, in file order."""
    return [Indicator(**row) for row in _read(path)]


def read_targets(path: Path) -> list[Target]:
    """The targets seed's rows, in file order."""
    return [Target(**row) for row in _read(path)]


def read_clauses(path: Path) -> list[Clause]:
    """The rule-clause seed's rows, in file order."""
    return [Clause(**row) for row in _read(path)]


def _number(text: str, unit: str) -> str:
    """A value in the indicator's unit as people read it: ratios as percentages."""
    value = Decimal(text)
    if unit == "ratio":
        return f"{(value * 100).normalize():f}%"
    return f"{value.normalize():f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _scoring(ind: Indicator) -> str:
    parts = [f"{ind.scoring_rule} (kind `{ind.scoring_kind}`"]
    if ind.threshold:
        parts.append(f"threshold {_number(ind.threshold, 'ratio')}")
    if ind.max_points:
        parts.append(f"max points {ind.max_points}")
    return ", ".join(parts) + ")"


def _target_line(target: Target, unit: str) -> str:
    line = (
        f"{target.target_year}, area {target.area_code}: "
        f"value {target.comparison} {_number(target.target_value, unit)} — "
        f"{target.source_document}"
    )
    return f"{line}. *{target.note}.*" if target.note else f"{line}."


def _link(kpi_id: str, by_id: dict[str, Indicator]) -> str:
    return f"[{kpi_id}](#{_anchor(by_id[kpi_id])})" if kpi_id in by_id else f"`{kpi_id}`"


def _clause_line(clause: Clause, by_id: dict[str, Indicator]) -> str:
    line = f"`{clause.clause_id}` *({clause.aspect})* — {clause.rule_en}"
    if clause.interpretation:
        line += f" **Interpretation** (※) — alternative: {clause.alternative}"
        if clause.alternative_kpi_id:
            line += f" Published as {_link(clause.alternative_kpi_id, by_id)}."
        line += f" Effect on the demo province: {clause.alternative_effect}"
        if clause.reference:
            line += f" (Codes and texts: {clause.reference}.)"
    else:
        line += f" — *{clause.reference}*"
    return line


def computed_kpi_ids(kpi_models_dir: Path) -> frozenset[str]:
    """The ids fct_kpi_value has rows of: the accepted values of the ``kpi_id`` column of the
    KPI input models (``_int_kpi__*.yml``), which their data tests hold the SQL to."""
    ids: set[str] = set()
    for path in sorted(kpi_models_dir.glob("_int_kpi__*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for test in model.get("data_tests", []):
                if isinstance(test, dict) and "column_checks" in test:
                    spec = test["column_checks"]
                    accepted = spec.get("arguments", spec).get("accepted_values") or {}
                    ids.update(str(v) for v in accepted.get("kpi_id", []))
    return frozenset(ids)


def _where_computed(ind: Indicator, by_id: dict[str, Indicator], computed: frozenset[str]) -> str:
    if ind.periodicity == "realtime":
        # The wall's live indicators are the state at the build, not month cells.
        return (
            f"at each build in the `meta` schema, realtime (see the rule set's source-data "
            f"clause); no rows in `{FACT_MODEL}`"
        )
    if ind.kpi_id not in computed:
        return f"no rows in `{FACT_MODEL}` (no source records it: see the rule set)"
    where = f"`{FACT_MODEL}`"
    if ind.kpi_id in CONTRIBUTION_KPIS:
        where += f"; per dossier or petition: `{CONTRIBUTION_MODEL}`"
    elif ind.kpi_id in PRODUCT_KPIS:
        first, second = PRODUCT_KPIS[ind.kpi_id]
        where += (
            f" as {_link(first, by_id)} × {_link(second, by_id)} of the unit and month (their "
            f"records: `{CONTRIBUTION_MODEL}`)"
        )
    return where


def _indicator_section(
    ind: Indicator,
    targets: list[Target],
    clauses: list[Clause],
    by_id: dict[str, Indicator],
    computed: frozenset[str],
) -> list[str]:
    demo = "yes" if ind.supported_by_demo == "true" else "no"
    if ind.demo_note:
        demo = f"{demo} ({ind.demo_note})"
    mark = " ※" if _reading_interpreted(clauses) else ""
    lines = [
        f"### {ind.kpi_id} — {ind.name_en}",
        "",
        f"*{ind.name_vi}*",
        "",
        f"> **Rule{mark}:** {ind.rule_short_en}  ",
        f"> *{ind.rule_short_vi}*",
        "",
        f"- **Reference:** {ind.reference}",
        f"- **Definition:** numerator = {ind.numerator_definition}; "
        f"denominator = {ind.denominator_definition}.",
        f"- **Formula:** {ind.formula}",
        f"- **Source:** {ind.source_decision}",
        f"- **Sector / unit / direction / period:** {ind.sector} · {ind.unit} · "
        f"{DIRECTIONS[ind.direction]} · {ind.periodicity}",
        f"- **Scoring:** {_scoring(ind)}",
    ]
    if targets:
        lines.append("- **Targets:**")
        lines.extend(f"  - {_target_line(t, ind.unit)}" for t in targets)
    else:
        lines.append("- **Targets:** none given by the documents.")
    if ind.reconciliation_threshold:
        gap = Decimal(ind.reconciliation_threshold)
        tolerance = (
            f"{(gap * 100).normalize():f} percentage points"
            if ind.unit == "ratio"
            else f"{gap.normalize():f} {ind.unit}"
        )
        lines.append(
            "- **Reconciled with the national portal:** `marts.kpi_reconciliation`; an "
            f"unexplained gap above {tolerance} raises an alert."
        )
    lines.append(
        f"- **Where it is computed:** {_where_computed(ind, by_id, computed)}; "
        f"demo ground truth: {demo}."
    )
    interpretations = sum(c.interpretation for c in clauses)
    lines.append(
        f"- **Rule set** ({len(clauses)} clauses, {interpretations} interpretations; "
        "`marts.kpi_rule_clauses`):"
    )
    lines.extend(f"  {i}. {_clause_line(c, by_id)}" for i, c in enumerate(clauses, start=1))
    lines.append("")
    return lines


def render_kpi_docs(
    catalogue_csv: Path, targets_csv: Path, clauses_csv: Path, kpi_models_dir: Path
) -> str:
    """The Markdown page for the catalogue, targets and rule-clause seeds, and where each
    indicator is computed (the KPI input models' ids) — deterministic: same input bytes, same
    page."""
    computed = computed_kpi_ids(kpi_models_dir)
    catalogue = read_catalogue(catalogue_csv)
    by_id = {ind.kpi_id: ind for ind in catalogue}
    by_kpi: dict[str, list[Target]] = defaultdict(list)
    for target in read_targets(targets_csv):
        by_kpi[target.kpi_id].append(target)
    clauses_of: dict[str, list[Clause]] = defaultdict(list)
    clauses = read_clauses(clauses_csv)
    for clause in clauses:
        clauses_of[clause.kpi_id].append(clause)
    for ordered in clauses_of.values():
        ordered.sort(key=lambda c: int(c.ordinal))
    supported = sum(ind.supported_by_demo == "true" for ind in catalogue)
    interpreted = sum(any(c.interpretation for c in clauses_of[i.kpi_id]) for i in catalogue)
    lines = [
        "<!-- Generated by iochub/kpi_docs.py from dbt_project/seeds/kpi/kpi_catalogue_seed.csv,",
        "     kpi_rule_clauses_seed.csv and kpi_targets_seed.csv. Do not edit by hand: edit the",
        "     seeds and regenerate (`ioc docs kpis`). -->",
        "",
        "# KPI catalogue",
        "",
        "Every indicator the warehouse computes or tracks, with its official formula, the",
        "document it comes from (`../shared/domain/kpis.md`, `province_facts.md`) and its rule",
        "set. The dbt seeds are the source; the marts `kpi_catalogue`, `kpi_rule_clauses` and",
        f"`kpi_targets` expose them in the warehouse, and `{FACT_MODEL}` computes numerator,",
        "denominator, value, target, status and score per indicator × admin unit × period",
        f"(`{CONTRIBUTION_MODEL}`: what each dossier and petition adds to the QĐ 766 ones).",
        "",
        f"{len(catalogue)} indicators, {supported} with ground truth from the demo province",
        f"(`sim/ground_truth.parquet`), {sum(len(v) for v in by_kpi.values())} targets, "
        f"{len(clauses)} rule clauses",
        f"({sum(c.interpretation for c in clauses)} interpretations, in {interpreted} indicators).",
        "",
        "- **Ids**: `766-…` QĐ 766/QĐ-TTg (`n`, `r`, `f` suffixes: the alternative readings",
        "  published beside 766-2.2, 766-3.3 and 766-4.2); `YT-`, `GD-`, `XH-`, `KT-`, `CQ-` the",
        "  national targets the DTI tracks; `OPS-…` the names the demo province's ground truth",
        "  uses; `DT-…` the project's ids for the province's own indicators that have no national",
        "  id.",
        "- **Scoring (QĐ 766)**: where a threshold is given, score = max points if value ≥",
        "  threshold, else value × max / threshold (`threshold`); where none is given, score =",
        "  value × max (`linear`); `none` = no points.",
        "- **Targets** set before the 1 July 2025 merger are recorded against the new province",
        "  (82) with a note saying so.",
        "- **Rule set**: each clause (`<id>/<slug>`, stable) says what the warehouse does for one",
        "  aspect (formula, numerator, denominator, unfinished records, pauses, duplicates,",
        "  period, admin unit, scoring, source data) and where it comes from: the reference in",
        "  italics, or **Interpretation** (※) where the text is silent or ambiguous — then the",
        "  alternative reading, the indicator publishing it if any, and the alternative's effect",
        "  on the demo province's value. The dashboards show the one-line rule and mark ※ diễn",
        "  giải on indicators whose own reading (formula, numerator, denominator, unfinished",
        "  records, pauses, scoring) rests on an interpretation.",
        "",
        "| id | indicator | sector | unit | period | demo | ※ |",
        "|---|---|---|---|---|---|---|",
    ]
    for ind in catalogue:
        demo = "yes" if ind.supported_by_demo == "true" else "no"
        mark = "※" if _reading_interpreted(clauses_of[ind.kpi_id]) else ""
        lines.append(
            f"| [{ind.kpi_id}](#{_anchor(ind)}) | {_cell(ind.name_en)} | {ind.sector} | "
            f"{ind.unit} | {ind.periodicity} | {demo} | {mark} |"
        )
    lines.append("")
    for group, title in GROUPS.items():
        members = [ind for ind in catalogue if ind.group_code == group]
        if not members:
            continue
        lines.extend([f"## {title}", ""])
        for ind in members:
            lines.extend(
                _indicator_section(
                    ind, by_kpi.get(ind.kpi_id, []), clauses_of.get(ind.kpi_id, []), by_id, computed
                )
            )
    unknown = sorted({ind.group_code for ind in catalogue} - GROUPS.keys())
    if unknown:
        raise ValueError(
            f"{catalogue_csv}: group_code {unknown} has no title in iochub/kpi_docs.py GROUPS; "
            "add it there"
        )
    return "\n".join(lines).rstrip("\n") + "\n"


def _anchor(ind: Indicator) -> str:
    """GitHub's heading anchor for ``### <id> — <name_en>``."""
    heading = f"{ind.kpi_id} — {ind.name_en}".lower()
    kept = "".join(ch for ch in heading if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def docs_path(settings: Settings) -> Path:
    return settings.dbt_project_dir.parent / "docs" / "kpis.md"


def write_kpi_docs(settings: Settings) -> Path:
    """Regenerate ``docs/kpis.md`` from the three seeds; returns the page's path."""
    project = settings.dbt_project_dir
    page = render_kpi_docs(
        project / CATALOGUE_SEED,
        project / TARGETS_SEED,
        project / CLAUSES_SEED,
        project / KPI_MODELS,
    )
    path = docs_path(settings)
    path.write_text(page, encoding="utf-8")
    return path
