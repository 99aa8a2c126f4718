"""The KPI catalogue page, ``docs/kpis.md``, generated from the dbt seeds.

The catalogue and the targets live as two hand-maintained dbt seeds
(``dbt_project/seeds/kpi/kpi_catalogue_seed.csv`` and ``kpi_targets_seed.csv``, every value taken
from ``../shared/domain/kpis.md`` and ``province_facts.md``); the marts ``kpi_catalogue`` and
``kpi_targets`` expose them typed in the warehouse. This module renders the same two files as the
human-readable page, so the page can never say something the warehouse does not:
:func:`render_kpi_docs` is pure (CSV in, Markdown out) and :func:`write_kpi_docs` writes
``docs/kpis.md``. ``tests/unit/test_kpi_docs.py`` fails when the committed page is stale.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from iochub.settings import Settings

CATALOGUE_SEED = Path("seeds") / "kpi" / "kpi_catalogue_seed.csv"
TARGETS_SEED = Path("seeds") / "kpi" / "kpi_targets_seed.csv"
FACT_MODEL = "marts/kpi/fct_kpi_value"

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


def _indicator_section(ind: Indicator, targets: list[Target]) -> list[str]:
    demo = "yes" if ind.supported_by_demo == "true" else "no"
    if ind.demo_note:
        demo = f"{demo} ({ind.demo_note})"
    lines = [
        f"### {ind.kpi_id} — {ind.name_en}",
        "",
        f"*{ind.name_vi}*",
        "",
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
    lines.append(
        f"- **Where it is computed:** `{FACT_MODEL}` (to be built); demo ground truth: {demo}."
    )
    lines.append("")
    return lines


def render_kpi_docs(catalogue_csv: Path, targets_csv: Path) -> str:
    """The Markdown page for the catalogue and targets seeds (deterministic: same input bytes,
    same page)."""
    catalogue = read_catalogue(catalogue_csv)
    by_kpi: dict[str, list[Target]] = defaultdict(list)
    for target in read_targets(targets_csv):
        by_kpi[target.kpi_id].append(target)
    supported = sum(ind.supported_by_demo == "true" for ind in catalogue)
    lines = [
        "<!-- Generated by iochub/kpi_docs.py from dbt_project/seeds/kpi/kpi_catalogue_seed.csv",
        "     and kpi_targets_seed.csv. Do not edit by hand: edit the seeds and regenerate. -->",
        "",
        "# KPI catalogue",
        "",
        "Every indicator the warehouse computes or tracks, with its official formula and the",
        "document it comes from (`../shared/domain/kpis.md`, `province_facts.md`). The dbt seeds",
        "are the source; the marts `kpi_catalogue` and `kpi_targets` expose them in the warehouse,",
        f"and `{FACT_MODEL}` (to be built) computes numerator, denominator, value, target, status",
        "and score per indicator × admin unit × period.",
        "",
        f"{len(catalogue)} indicators, {supported} with ground truth from the demo province",
        f"(`sim/ground_truth.parquet`), {sum(len(v) for v in by_kpi.values())} targets.",
        "",
        "- **Ids**: `766-…` QĐ 766/QĐ-TTg; `YT-`, `GD-`, `XH-`, `KT-`, `CQ-` the national targets",
        "  the DTI tracks; `OPS-…` the names the demo province's ground truth uses; `DT-…` the",
        "  project's ids for the province's own indicators that have no national id.",
        "- **Scoring (QĐ 766)**: where a threshold is given, score = max points if value ≥",
        "  threshold, else value × max / threshold (`threshold`); where none is given, score =",
        "  value × max (`linear`); `none` = no points.",
        "- **Targets** set before the 1 July 2025 merger are recorded against the new province",
        "  (82) with a note saying so.",
        "",
        "| id | indicator | sector | unit | period | demo |",
        "|---|---|---|---|---|---|",
    ]
    for ind in catalogue:
        demo = "yes" if ind.supported_by_demo == "true" else "no"
        lines.append(
            f"| [{ind.kpi_id}](#{_anchor(ind)}) | {_cell(ind.name_en)} | {ind.sector} | "
            f"{ind.unit} | {ind.periodicity} | {demo} |"
        )
    lines.append("")
    for group, title in GROUPS.items():
        members = [ind for ind in catalogue if ind.group_code == group]
        if not members:
            continue
        lines.extend([f"## {title}", ""])
        for ind in members:
            lines.extend(_indicator_section(ind, by_kpi.get(ind.kpi_id, [])))
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
    """Regenerate ``docs/kpis.md`` from the seeds; returns the page's path."""
    project = settings.dbt_project_dir
    page = render_kpi_docs(project / CATALOGUE_SEED, project / TARGETS_SEED)
    path = docs_path(settings)
    path.write_text(page, encoding="utf-8")
    return path
