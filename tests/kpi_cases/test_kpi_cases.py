"""Hand-computed KPI cases through the real pipeline, on DuckDB and on PostgreSQL.

The one-stop cases (one_stop/dossiers.yaml) become the one-stop-shop system's own database (a
SQLite file in its layout, source_db.py); the IoT cases (iot/stations.yaml) the stations' daily
CSV dumps and MQTT messages (iot_source.py); the education cases (education/schools.yaml) the
term exports' Excel workbooks (education_source.py); the health cases (health/claims.yaml) the
hospitals' XML 130 claim files (health_source.py), the health registry cases
(health_registry/registry.yaml) the EHR registry's database (a SQLite file) and the telemedicine
and booking exports (health_registry_source.py); the agriculture cases
(agriculture/deliveries.yaml) four systems' databases (SQLite files) and report workbooks
(agriculture_source.py). The real connectors land them into one
throwaway IOC_HOME: ``sql``, ``files``, and ``mqtt`` draining what was published on the
Mosquitto broker at 127.0.0.1:1883 under topics and a session of this run's own. The cases'
later changes are made (rows changed, a day's dump rewritten, a workbook corrected, a claim
file dropped) and everything lands again, as the scheduled extracts would; dbt builds
``fct_kpi_value`` and ``meta.alerts`` with everything they read, once per engine (PostgreSQL
after the lake is copied into a scratch database, as
tests/integration/test_postgres_portability.py does); then every cell of */expected.yaml,
computed by hand from the written rule, is compared, the IoT stations silent now
(meta.alerts) with iot/expected.yaml's list, and the open alerts of each rule an expected
file's open_alerts names (the health facilities not reporting) with that list; the sources'
freshness and quarantine rates (meta.meta_source_freshness) with platform/expected.yaml.

The coverage tests hold the cases to the rule set: every clause of
dbt_project/seeds/kpi/kpi_rule_clauses_seed.csv is covered by a case (``covers``) or listed in
not_yet_covered.yaml with its reason, and that list names only real clauses no case covers;
clauses of the one-stop dossier and petition indicators cannot be listed there.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import operator
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
import yaml

from connectors.extract import extract_source, run_extract
from connectors.landing import read_manifests
from connectors.registry import expand_placeholders, load_registry
from iochub.kpi_docs import CATALOGUE_SEED, KPI_MODELS, computed_kpi_ids, read_catalogue
from iochub.settings import REPO_ROOT, Settings, get_settings
from iochub.warehouse import dbt_args, prepare_build
from tests.kpi_cases import (
    agriculture_source,
    education_source,
    health_registry_source,
    health_source,
    iot_source,
    source_db,
    statistics_source,
)
from tests.kpi_cases.case_source import STAGES, CaseSource
from tests.kpi_cases.iot_source import forget_session, iot_rows, load_iot_cases, publish
from tests.registry_counted import registry_scales

# The source systems the cases are written into, landed in this order after each stage.
CASE_SOURCES: tuple[CaseSource, ...] = (
    source_db.CASE_SOURCE,
    iot_source.CASE_SOURCE,
    education_source.CASE_SOURCE,
    health_source.CASE_SOURCE,
    agriculture_source.CASE_SOURCE,
    health_registry_source.CASE_SOURCE,
    statistics_source.CASE_SOURCE,
)
EXPECTED_FILES = sorted(Path(__file__).parent.glob("*/expected.yaml"))
NOT_YET_COVERED = Path(__file__).parent / "not_yet_covered.yaml"
CLAUSES = REPO_ROOT / "dbt_project" / "seeds" / "kpi" / "kpi_rule_clauses_seed.csv"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
MQTT_BROKER = ("127.0.0.1", 1883)
# What fct_kpi_value and meta.alerts (OPS-IOT-STATIONS-SILENT lives there) need, and the data
# tests of those models whose parents are all built.
SELECTION = ("--select", "+fct_kpi_value", "+alerts", "--indirect-selection", "cautious")
MODELS_AND_SEEDS = ("--resource-type", "model", "--resource-type", "seed")
DATA_TESTS = ("--exclude", "test_type:unit")  # unit tests carry their own fixtures, not the cases
# The QĐ 766 indicators computed from the one-stop system's dossiers and petitions: their
# clauses must have a case, never an entry in not_yet_covered.yaml.
# fmt: off
ONE_STOP_RECORD_KPIS = frozenset([
    "766-1.4", "766-2.1", "766-2.2", "766-2.2n", "766-3.3", "766-3.3r", "766-3.6", "766-4.1",
    "766-4.2", "766-4.2f", "766-4.3", "766-4.4", "766-4.5b", "766-5.2", "766-5.3", "766-5.4",
    "OPS-OVERDUE-DOSSIERS",
])
# fmt: on
TOLERANCE = 1e-9
Key = tuple[str, str, str, str]  # kpi_id, period, admin_level, admin_code


# --- Expected cells ---------------------------------------------------------------------------

_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def hand_value(value: object) -> Fraction | None:
    """A hand-written number or arithmetic expression (``6 * 5/7 / 0.9``), exactly."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")

    def walk(node: ast.expr) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return Fraction(str(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            result: Fraction = _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
            return result
        raise ValueError(f"not plain arithmetic: {value!r}")

    return walk(ast.parse(str(value), mode="eval").body)


@dataclass(frozen=True)
class Cell:
    case: str
    key: Key
    absent: bool
    numerator: Fraction | None
    denominator: Fraction | None
    value: Fraction | None
    score: Fraction | None
    covers: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.case}:{'|'.join(self.key)}"


def load_expected() -> dict[str, Any]:
    """The expected files merged: cells by case, landing by source, the silent stations."""
    merged: dict[str, Any] = {
        "cells": {},
        "landing": {},
        "silent": {"open": [], "covers": []},
        "open_alerts": {},
        "platform": {},
    }
    for path in EXPECTED_FILES:
        with path.open(encoding="utf-8") as handle:
            loaded: dict[str, Any] = yaml.safe_load(handle)
        for part in ("cells", "landing", "platform"):
            clash = merged[part].keys() & loaded.get(part, {}).keys()
            assert not clash, f"{path.name}: {part} {sorted(clash)} already in another file"
            merged[part].update(loaded.get(part, {}))
        for part in ("open", "covers"):
            merged["silent"][part] += loaded.get("silent", {}).get(part, [])
        for rule, block in loaded.get("open_alerts", {}).items():
            assert rule not in merged["open_alerts"], f"{path.name}: open_alerts {rule} twice"
            merged["open_alerts"][rule] = block
    return merged


def expected_cells() -> list[Cell]:
    cells = []
    for case, rows in load_expected()["cells"].items():
        for row in rows:
            key = (str(row["kpi"]), str(row["period"]), str(row["level"]), str(row["code"]))
            absent = bool(row.get("absent", False))
            cells.append(
                Cell(
                    case=case,
                    key=key,
                    absent=absent,
                    numerator=None if absent else hand_value(row["num"]),
                    denominator=None if absent else hand_value(row["den"]),
                    value=None if absent else hand_value(row["value"]),
                    score=None if absent else hand_value(row["score"]),
                    covers=tuple(row.get("covers", ())),
                )
            )
    return cells


CELLS = expected_cells()


# --- The pipeline -----------------------------------------------------------------------------


@dataclass
class Landed:
    settings: Settings
    # per source, per extract run (first, second): rows quarantined per table
    quarantined: dict[str, list[dict[str, int]]]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landed]:
    """The cases landed by the real extracts, before and after their later changes."""
    root = tmp_path_factory.mktemp("kpi_cases")
    stations = iot_rows(load_iot_cases())  # their MQTT copies; the dumps are a CaseSource
    quarantined: dict[str, list[dict[str, int]]] = {}

    def land(settings: Settings, name: str) -> None:
        manifest = run_extract(name, settings)
        quarantined.setdefault(name, []).append(dict(manifest.rows_quarantined))

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_HOME", str(root / "home"))
        for system in CASE_SOURCES:
            for name, value in system.env(root / system.folder).items():
                patch.setenv(name, value)
        patch.setenv("IOC_MQTT_URL", "mqtt://{}:{}".format(*MQTT_BROKER))
        # The MQTT topics (iochub/<prefix>/...) and the connector's session are this run's own:
        # neither the demo's publisher nor another run's messages reach them.
        patch.setenv("IOC_SIM_DB_PREFIX", f"kpicases{os.getpid()}_")
        settings = get_settings()
        mqtt_source = load_registry(settings)["iot_mqtt"]
        spec = mqtt_source.mqtt
        assert spec is not None
        # Nothing else publishes on these topics: a second of quiet means drained (the
        # registered 10 s waits out the live feed's night pauses, which this run has not).
        mqtt_source = mqtt_source.model_copy(
            update={"mqtt": spec.model_copy(update={"idle_seconds": 1.0})}
        )
        client_id = expand_placeholders(spec.client_id, settings)

        def land_mqtt() -> None:
            manifest = extract_source(mqtt_source, settings)
            quarantined.setdefault("iot_mqtt", []).append(dict(manifest.rows_quarantined))

        try:
            # The first run opens the session the broker keeps the messages in (QoS 1): what
            # is published before any subscription would be dropped, not queued.
            land_mqtt()
            published = publish(*MQTT_BROKER, settings.sim_topic_root, stations.messages)
            assert published == len(stations.messages), "the broker did not take every message"
            for stage in STAGES:
                for system in CASE_SOURCES:
                    (root / system.folder).mkdir(exist_ok=True)
                    system.write(root / system.folder, stage)
                for system in CASE_SOURCES:
                    for name in system.sources:
                        land(settings, name)
            land_mqtt()
        finally:
            forget_session(*MQTT_BROKER, client_id)
    yield Landed(settings, quarantined)


@dataclass
class Built:
    engine: str
    results: dict[str, tuple[str, str]]  # dbt node → (status, message), models, seeds, tests
    rows: dict[Key, dict[str, float | None]]
    silent: set[tuple[str, str | None]]  # (station, commune) of each open iot_station_silent
    # (rule, subject, commune) of each open alert of the rules an expected file's open_alerts names
    open_alerts: set[tuple[str, str, str | None]]
    # (source, table) → its meta.meta_source_freshness row and its open source alerts
    platform: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _dbt(
    settings: Settings, target: Path, env: dict[str, str], *args: str
) -> dict[str, tuple[str, str]]:
    """Run one dbt command (its own target path: other dbt runs may share the project); the
    status and message of each node it ran."""
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)
    completed = subprocess.run(
        [str(settings.dbt_executable), *dbt_args(settings, *args), "--target-path", str(target)],
        env={
            **os.environ,
            **settings.tool_environment(),
            "DBT_LOG_PATH": str(target / "logs"),
            **env,
        },
        check=False,
        capture_output=True,
        text=True,
    )
    if not results_file.exists():
        raise RuntimeError(f"dbt {' '.join(args)} ran nothing:\n{completed.stdout[-3000:]}")
    results = json.loads(results_file.read_text())["results"]
    return {r["unique_id"]: (r["status"], " ".join((r["message"] or "").split())) for r in results}


def _build(
    settings: Settings, target: Path, env: dict[str, str], *target_args: str
) -> dict[str, tuple[str, str]]:
    """Models and seeds first, then their data tests: a failing data test is reported by
    test_dbt_build_passes without hiding the KPI values from the cell tests (``dbt build``
    would skip every model downstream of it)."""
    models = _dbt(settings, target, env, "build", *target_args, *SELECTION, *MODELS_AND_SEEDS)
    tests = _dbt(settings, target, env, "test", *target_args, *SELECTION, *DATA_TESTS)
    return {**models, **tests}


_KPI_SQL = (
    "select kpi_id, period, admin_level, admin_code, numerator, denominator, value, score "
    "from marts.fct_kpi_value"
)
_SILENT_SQL = (
    "select subject_code, commune_code from meta.alerts "
    "where alert_rule = 'iot_station_silent' and is_open"
)
_OPEN_ALERTS_SQL = "select alert_rule, subject_code, commune_code from meta.alerts where is_open"


def _open_alerts(records: list[tuple[Any, ...]]) -> set[tuple[str, str, str | None]]:
    """The open alerts of the rules the expected files judge (open_alerts)."""
    judged = load_expected()["open_alerts"].keys()
    return {(rule, code, commune) for rule, code, commune in records if rule in judged}


# OPS-SOURCE-FRESHNESS and OPS-SOURCE-QUARANTINE-RATE: each declared source table's freshness
# row, the measure of its open quarantine-rate alert and whether its source's stale alert is open.
_PLATFORM_SQL = """
select
    f.source_name, f.table_name, f.runs, f.last_run_id, f.last_success_at, f.built_at,
    f.hours_since_success, f.is_stale, f.last_run_rows_in, f.last_run_rows_quarantined,
    q.measure as quarantine_alert, s.subject_code is not null as stale_alert
from meta.meta_source_freshness as f
left join meta.alerts as q
    on q.alert_rule = 'source_quarantine_rate' and q.is_open and q.subject_code = f.source_table_id
left join meta.alerts as s
    on s.alert_rule = 'source_stale' and s.is_open and s.subject_code = f.source_name
"""


def _platform(cursor: Any) -> dict[tuple[str, str], dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    return {(row[0], row[1]): dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _rows(records: list[tuple[Any, ...]]) -> dict[Key, dict[str, float | None]]:
    return {
        (kpi, period, level, code): {
            "numerator": None if num is None else float(num),
            "denominator": None if den is None else float(den),
            "value": None if value is None else float(value),
            "score": None if score is None else float(score),
        }
        for kpi, period, level, code, num, den, value, score in records
    }


def _built_duckdb(landed: Landed) -> Built:
    settings = landed.settings
    prepare_build(settings)  # the typed placeholders of every source not landed
    results = _build(settings, settings.home / "dbt_duckdb", {})
    if not (_has_kpi_table(results) or _has_alerts(results)):
        return Built("duckdb", results, {}, set(), set())
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        rows = _rows(con.execute(_KPI_SQL).fetchall()) if _has_kpi_table(results) else {}
        silent: set[tuple[str, str | None]] = set()
        alerts: set[tuple[str, str, str | None]] = set()
        if _has_alerts(results):
            silent = set(con.execute(_SILENT_SQL).fetchall())
            alerts = _open_alerts(con.execute(_OPEN_ALERTS_SQL).fetchall())
        platform = _platform(con.execute(_PLATFORM_SQL)) if _has_alerts(results) else {}
    return Built("duckdb", results, rows, silent, alerts, platform)


def _built_postgres(landed: Landed) -> Iterator[Built]:
    from iochub.lake_meta import load_lake_into_postgres

    settings = landed.settings
    name = f"iochub_kpi_cases_{os.getpid()}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
        pg.execute(f'drop database if exists "{name}" with (force)')
        pg.execute(f'create database "{name}"')
    try:
        prepare_build(settings)  # the typed placeholders of every source not landed
        load_lake_into_postgres(settings, f"{PG_SERVER}/{name}")
        results = _build(
            settings,
            settings.home / "dbt_postgres",
            {"IOC_DBT_PG_DBNAME": name},
            "--target",
            "postgres",
        )
        records: list[tuple[Any, ...]] = []
        silent: set[tuple[str, str | None]] = set()
        alerts: set[tuple[str, str, str | None]] = set()
        platform: dict[tuple[str, str], dict[str, Any]] = {}
        with psycopg.connect(f"{PG_SERVER}/{name}") as pg:
            if _has_kpi_table(results):
                records = pg.execute(_KPI_SQL).fetchall()
            if _has_alerts(results):
                silent = {(code, commune) for code, commune in pg.execute(_SILENT_SQL)}
                alerts = _open_alerts(pg.execute(_OPEN_ALERTS_SQL).fetchall())
                platform = _platform(pg.execute(_PLATFORM_SQL))
        yield Built("postgres", results, _rows(records), silent, alerts, platform)
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database if exists "{name}" with (force)')


def _has_kpi_table(results: dict[str, tuple[str, str]]) -> bool:
    return results.get("model.iochub.fct_kpi_value", ("", ""))[0] == "success"


def _has_alerts(results: dict[str, tuple[str, str]]) -> bool:
    return results.get("model.iochub.alerts", ("", ""))[0] == "success"


@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.integration)],
)
def built(request: pytest.FixtureRequest, landed: Landed) -> Iterator[Built]:
    if request.param == "duckdb":
        yield _built_duckdb(landed)
    else:
        yield from _built_postgres(landed)


# --- Tests --------------------------------------------------------------------------------------


def test_landing_quarantines_what_the_cases_say(landed: Landed) -> None:
    landing = load_expected()["landing"]
    expected = {name: [runs["first"], runs["second"]] for name, runs in landing.items()}
    assert landed.quarantined == expected


def test_dbt_build_passes(built: Built) -> None:
    """Every model, seed and data test fct_kpi_value rests on passes on the hand-written data."""
    assert built.results, "dbt ran nothing"
    broken = {
        node: outcome
        for node, outcome in built.results.items()
        if outcome[0] not in ("success", "pass")
    }
    # Models and seeds first: a test of a model that failed to build fails with it.
    shown = sorted(
        broken.items(), key=lambda item: (not item[0].startswith(("model.", "seed.")), item[0])
    )
    assert not broken, f"{len(broken)} node(s) on {built.engine}, the first:\n" + "\n".join(
        f"{node} [{status}] {message[:300]}" for node, (status, message) in shown[:10]
    )


def _same(expected: Fraction | None, got: float | None, exact: bool) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if exact and expected.denominator == 1:
        return got == float(expected)
    return math.isclose(float(expected), got, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


@pytest.fixture(scope="module")
def scales() -> dict[str, Fraction]:
    """Systems a data engineer declared beside the cases' registry (tests/registry_counted.py)."""
    return registry_scales(get_settings())


@pytest.mark.parametrize("cell", CELLS, ids=[c.label for c in CELLS])
def test_cell(built: Built, cell: Cell, scales: dict[str, Fraction]) -> None:
    if not _has_kpi_table(built.results):
        pytest.fail(f"fct_kpi_value was not built on {built.engine} (see test_dbt_build_passes)")
    row = built.rows.get(cell.key)
    if cell.absent:
        assert row is None, f"expected no row, found {row}"
        return
    assert row is not None, "no such row in fct_kpi_value"
    scale = scales.get(cell.key[0], Fraction(1))
    expected = {
        "numerator": (cell.numerator, True),
        "denominator": (None if cell.denominator is None else cell.denominator * scale, True),
        "value": (None if cell.value is None else cell.value / scale, False),
        "score": (cell.score, False),
    }
    wrong = {
        name: f"expected {None if want is None else float(want)!r}, got {row[name]!r}"
        for name, (want, exact) in expected.items()
        if not _same(want, row[name], exact)
    }
    assert not wrong, wrong


def test_silent_stations(built: Built) -> None:
    """OPS-IOT-STATIONS-SILENT: the stations silent now and their communes (meta.alerts)."""
    if not _has_alerts(built.results):
        pytest.fail(f"meta.alerts was not built on {built.engine} (see test_dbt_build_passes)")
    expected = {(s["station"], s["commune"]) for s in load_expected()["silent"]["open"]}
    assert built.silent == expected, (
        f"silent by the rule, not in meta.alerts: {sorted(expected - built.silent, key=str)}; "
        f"in meta.alerts, not silent by the rule: {sorted(built.silent - expected, key=str)}"
    )


def test_open_alerts(built: Built) -> None:
    """The open alerts of each rule an expected file's open_alerts names (meta.alerts), e.g.
    OPS-HEALTH-FACILITIES-SILENT's health_facility_not_reporting: subject and commune."""
    if not _has_alerts(built.results):
        pytest.fail(f"meta.alerts was not built on {built.engine} (see test_dbt_build_passes)")
    expected = {
        (rule, alert["subject"], alert["commune"])
        for rule, block in load_expected()["open_alerts"].items()
        for alert in block["open"]
    }
    assert built.open_alerts == expected, (
        f"open by the rule, not in meta.alerts: {sorted(expected - built.open_alerts, key=str)}; "
        f"in meta.alerts, not open by the rule: {sorted(built.open_alerts - expected, key=str)}"
    )


RUNS = ("first", "second")  # the runner's extract runs of a case source, in order


def test_platform_indicators(built: Built, landed: Landed) -> None:
    """OPS-SOURCE-QUARANTINE-RATE and OPS-SOURCE-FRESHNESS (meta.meta_source_freshness, its
    source_quarantine_rate and source_stale alerts) against platform/expected.yaml. The duration
    runs to the build's own clock: checked to be in hours from the last run's recorded end to
    built_at, with built_at between that end and now."""
    if not _has_alerts(built.results):
        pytest.fail(f"meta.alerts was not built on {built.engine} (see test_dbt_build_passes)")
    now = datetime.now(UTC).replace(tzinfo=None)
    wrong: dict[str, object] = {}
    for source, want in load_expected()["platform"].items():
        manifests = sorted(read_manifests(landed.settings, source), key=lambda m: m.finished_at)
        last = manifests[RUNS.index(want["last_run"])] if want["last_run"] else None
        ended = None
        if last is not None:
            ended = datetime.fromisoformat(last.finished_at).astimezone(UTC).replace(tzinfo=None)
        for table, hand in want["tables"].items():
            row = built.platform.get((source, table))
            if row is None:
                wrong[f"{source}|{table}"] = "no row in meta.meta_source_freshness"
                continue
            rate = hand_value(hand["rate"])
            rows_in, quarantined = row["last_run_rows_in"], row["last_run_rows_quarantined"]
            measure = row["quarantine_alert"]
            got = {
                "runs": row["runs"],
                "last_run_id": row["last_run_id"],
                "last_success_at": row["last_success_at"],
                "is_stale": row["is_stale"],
                "stale_alert": row["stale_alert"],
                "rows_in": rows_in,
                "quarantined": quarantined,
                "rate ok": _same(rate, quarantined / rows_in if rows_in else None, False),
                "alert": None if measure is None else float(measure),
            }
            expected = {
                "runs": want["runs"],
                "last_run_id": None if last is None else last.run_id,
                "last_success_at": ended,
                "is_stale": want["stale"],
                "stale_alert": want["stale"],
                "rows_in": hand["rows_in"],
                "quarantined": hand["quarantined"],
                "rate ok": True,
                # the alert's measure: the rate in %, to 2 decimals
                "alert": round(float(100 * rate), 2) if hand["alert"] and rate else None,
            }
            if ended is None:
                got["hours"] = row["hours_since_success"]
                expected["hours"] = None
            else:
                built_at, hours = row["built_at"], float(row["hours_since_success"])
                got["built after the run, before now"] = ended <= built_at <= now
                expected["built after the run, before now"] = True
                got["hours to built_at"] = math.isclose(
                    hours, (built_at - ended).total_seconds() / 3600, abs_tol=0.005 + TOLERANCE
                )
                expected["hours to built_at"] = True
            if got != expected:
                wrong[f"{source}|{table}"] = {
                    name: f"expected {expected[name]!r}, got {got[name]!r}"
                    for name in expected
                    if got[name] != expected[name]
                }
    assert not wrong, wrong


# --- Coverage of the rule set --------------------------------------------------------------------


def rule_clauses() -> dict[str, str]:
    """clause_id → kpi_id, from the rule-set seed."""
    with CLAUSES.open(encoding="utf-8", newline="") as handle:
        return {row["clause_id"]: row["kpi_id"] for row in csv.DictReader(handle)}


def not_yet_covered() -> dict[str, str]:
    """clause_id → why no case covers it yet."""
    with NOT_YET_COVERED.open(encoding="utf-8") as handle:
        groups = yaml.safe_load(handle) or []
    excused: dict[str, str] = {}
    for group in groups:
        for clause in group["clauses"]:
            assert clause not in excused, f"{clause} listed twice in {NOT_YET_COVERED.name}"
            excused[clause] = group["reason"]
    return excused


def covered_clauses() -> set[str]:
    expected = load_expected()
    alerts = {c for block in expected["open_alerts"].values() for c in block.get("covers", [])}
    platform = {c for source in expected["platform"].values() for c in source["covers"]}
    silent = set(expected["silent"]["covers"]) | alerts | platform
    return {clause for cell in CELLS for clause in cell.covers} | silent


def test_cases_cover_only_real_clauses() -> None:
    unknown = sorted(covered_clauses() - rule_clauses().keys())
    assert not unknown, f"covers names clauses the rule set does not have: {unknown}"


def test_every_clause_has_a_case_or_a_reason() -> None:
    clauses = rule_clauses()
    missing = sorted(clauses.keys() - covered_clauses() - not_yet_covered().keys())
    assert not missing, (
        f"{len(missing)} clause(s) of the rule set have no case: write one in an "
        f"expected.yaml (covers), or say why in {NOT_YET_COVERED.name}: {missing}"
    )


def test_not_yet_covered_only_shrinks() -> None:
    clauses = rule_clauses()
    excused = not_yet_covered()
    unknown = sorted(excused.keys() - clauses.keys())
    assert not unknown, f"{NOT_YET_COVERED.name} lists clauses that do not exist: {unknown}"
    covered = sorted(excused.keys() & covered_clauses())
    assert not covered, (
        f"a case covers these now, remove them from {NOT_YET_COVERED.name}: {covered}"
    )


def test_one_stop_indicators_cannot_be_excused() -> None:
    clauses = rule_clauses()
    # An indicator with a case is in scope whole: its other clauses need cases too.
    started = {cell.key[0] for cell in CELLS} | {clauses.get(c) for c in covered_clauses()} - {None}
    in_scope = ONE_STOP_RECORD_KPIS | started
    excused = sorted(c for c in not_yet_covered() if clauses.get(c) in in_scope)
    assert not excused, (
        f"clauses of the one-stop dossier and petition indicators need a case, not an entry in "
        f"{NOT_YET_COVERED.name}: {excused}"
    )


def test_only_indicators_nothing_computes_can_be_excused() -> None:
    """The list excuses an indicator only while no model computes it: not in fct_kpi_value (the
    KPI input models' ids) and not realtime in meta. Once it is computed, it needs cases."""
    clauses = rule_clauses()
    project = REPO_ROOT / "dbt_project"
    catalogue = read_catalogue(project / CATALOGUE_SEED)
    realtime = {ind.kpi_id for ind in catalogue if ind.periodicity == "realtime"}
    computed = computed_kpi_ids(project / KPI_MODELS) | realtime
    excused = sorted(c for c in not_yet_covered() if clauses.get(c) in computed)
    assert not excused, (
        f"these indicators are computed: write their cases instead of listing them in "
        f"{NOT_YET_COVERED.name}: {excused}"
    )
