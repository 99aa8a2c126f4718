"""The ``ioc`` command: one entry point to every stage of the data flow.

Glue only: each command calls the stage's own module (connectors, the warehouse build, the
publish step, Superset, Airflow). ``ioc --help`` lists them; every command has ``--help``.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from iochub import superset
from iochub.settings import REPO_ROOT, Settings, get_settings

if TYPE_CHECKING:
    from connectors.landing import Manifest
    from iochub.alerts import NotifyResult
    from iochub.pipeline import ExtractOutcome, SourceFailure

app = typer.Typer(
    help="iochub — the data hub of a provincial Intelligent Operation Center (IOC).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sources_app = typer.Typer(
    help="The source registry (connectors/sources/**.yaml).", no_args_is_help=True
)
sim_app = typer.Typer(help="The demo province.", no_args_is_help=True)
geo_app = typer.Typer(
    help="Admin units and the GIS layers of the map (outline, zones, points).", no_args_is_help=True
)
privacy_app = typer.Typer(
    help="Checks that no clear personal data was written.", no_args_is_help=True
)
dbt_app = typer.Typer(help="The dbt project's generated parts.", no_args_is_help=True)
docs_app = typer.Typer(help="Documentation generated from the project.", no_args_is_help=True)
alerts_app = typer.Typer(
    help="Operational alerts of the published warehouse (meta.alerts).", no_args_is_help=True
)
quarantine_app = typer.Typer(
    help="What landing refused (files and rows), why, and releasing it once fixed.",
    no_args_is_help=True,
)
demo_app = typer.Typer(
    help="The laptop demo: pipeline through Airflow, UIs in the background.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")
app.add_typer(sim_app, name="sim")
app.add_typer(geo_app, name="geo")
app.add_typer(privacy_app, name="privacy")
app.add_typer(dbt_app, name="dbt")
app.add_typer(docs_app, name="docs")
app.add_typer(demo_app, name="demo")
app.add_typer(alerts_app, name="alerts")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(superset.app, name="superset")

console = Console(stderr=True)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # GX logs every internal registration at INFO; httpx every health poll.
    for noisy in ("great_expectations", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    _logging(verbose)


@app.command()
def doctor() -> None:
    """Check environments, versions, services, ports and disk; print the fix for each problem."""
    from iochub.doctor import Status, run_checks

    checks = run_checks(get_settings())
    table = Table(title="iochub doctor")
    for column in ("check", "status", "detail", "fix"):
        table.add_column(column)
    colour = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}
    for check in checks:
        table.add_row(
            check.name, f"[{colour[check.status]}]{check.status}[/]", check.detail, check.fix
        )
    Console().print(table)
    failed = [c for c in checks if c.status is Status.FAIL]
    if failed:
        _fail(f"{len(failed)} problem(s) to fix; run the commands in the 'fix' column.")


@sources_app.command("list")
def sources_list() -> None:
    """List the declared sources."""
    from connectors.registry import load_registry

    table = Table()
    for column in ("name", "sector", "kind", "schedule", "tables", "owner"):
        table.add_column(column)
    for source in load_registry(get_settings()).values():
        tables = ", ".join(t.name for t in source.tables)
        table.add_row(
            source.name, source.sector, source.kind, source.schedule, tables, source.owner
        )
    Console().print(table)


@sources_app.command("validate")
def sources_validate() -> None:
    """Validate every registry file against the schema, and every table's row rules against
    its declared columns; report each error with its file."""
    from connectors.contract import check_declaration
    from connectors.landing import lineage_columns
    from connectors.registry import RegistryError, load_registry

    try:
        sources = load_registry(get_settings())
    except RegistryError as exc:
        _fail(str(exc))
    errors = []
    for source in sources.values():
        try:
            check_declaration(source, list(lineage_columns(source)))
        except RegistryError as exc:
            errors.append(f"{source.name}: {exc}")
    if errors:
        _fail("\n".join(errors))
    console.print(f"[green]{len(sources)} source(s) valid[/green]")


@sources_app.command("check")
def sources_check(
    name: str = typer.Argument(..., help="Source name (see `ioc sources list`)."),
) -> None:
    """Connect to a source and compare what it holds with its contract (reads nothing in)."""
    from connectors.check import check_source
    from connectors.registry import RegistryError, load_registry

    settings = get_settings()
    try:
        sources = load_registry(settings)
    except RegistryError as exc:
        _fail(str(exc))
    if name not in sources:
        _fail(f"no source named {name!r}; declared: {', '.join(sorted(sources))}")
    source = sources[name]
    lines = check_source(source, settings)
    table = Table(title=f"{name} ({source.kind})")
    for column in ("checked", "status", "detail"):
        table.add_column(column)
    for line in lines:
        table.add_row(line.target, "[green]ok[/]" if line.ok else "[red]FAIL[/]", line.detail)
    Console(width=max(Console().width, 160)).print(table)
    failed = [line for line in lines if not line.ok]
    if failed:
        _fail(f"{name}: {len(failed)} check(s) failed")


@sources_app.command("new")
def sources_new(
    name: str = typer.Argument(..., help="Source name, lower_snake_case (e.g. agri_dt10)."),
    sector: str = typer.Option(
        ...,
        "--sector",
        help="health | public_services | education | agriculture | iot | statistics",
    ),
    from_db: str | None = typer.Option(
        None,
        "--from-db",
        help="Introspect a live database: postgresql://user@host/db, mysql:// or mariadb://, "
        "sqlite:///path/file.sqlite or a .sqlite path (the URLs the sql kind accepts). Columns, "
        "types, NOT NULL, primary key and comments are read, and up to 200 rows per table are "
        "sampled to guess personal data, admin codes and dates kept as text. The URL becomes "
        "the connection's default without its password.",
    ),
    tables: list[str] = typer.Option(
        [],
        "--table",
        help="With --from-db: only this table (repeat, or a,b); schema.table for a PostgreSQL "
        "schema other than the default. Default: every table.",
    ),
    from_file: Path | None = typer.Option(
        None,
        "--from-file",
        help="Introspect a sample file of a drop folder: .csv, .json, .jsonl or .xlsx (one "
        "table per sheet). The file's folder becomes the connection's default, its extension "
        "the pattern.",
    ),
    from_url: str | None = typer.Option(
        None,
        "--from-url",
        help="Introspect one page of a JSON API (GET, no credentials): the records are found "
        "in the answer, paging parameters in the URL's query (page, page_size, offset, limit) "
        "recognised. The URL's root becomes the connection's default, its path the endpoint.",
    ),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="Without a sample: a blank, commented template of this kind (files | sql | rest "
        "| mqtt) to fill in by hand.",
    ),
    file_format: str = typer.Option(
        "csv", "--format", help="With --kind files: csv, json, jsonl, excel, xml130."
    ),
) -> None:
    """Scaffold a source: declaration, staging model(s) and extract test (never overwrites).

    With --from-db, --from-file or --from-url the system is introspected and the declaration
    written complete; what was guessed (key, cursor, personal data, admin codes) is listed
    and marked in the file for you to confirm. With --kind, a blank template.
    """
    from rich.markup import escape

    from connectors.introspect import (
        IntrospectionError,
        introspect_database,
        introspect_file,
        introspect_url,
    )
    from connectors.scaffold import ScaffoldError, scaffold, scaffold_introspected, tables_of

    ways = (from_db, from_file, from_url, kind)
    if sum(way is not None for way in ways) != 1:
        _fail("give one of --from-db, --from-file, --from-url (introspect) or --kind (template)")
    if tables and not from_db:
        _fail("--table goes with --from-db")
    sources_dir = get_settings().sources_dir
    # The project the registry belongs to: a copy of the project (IOC_SOURCES_DIR=<copy>/
    # connectors/sources) gets its model and test too, never this checkout.
    in_copy = sources_dir.parts[-2:] == ("connectors", "sources")
    project = sources_dir.parent.parent if in_copy else REPO_ROOT
    where = {
        "sources_dir": sources_dir,
        "dbt_project_dir": project / "dbt_project",
        "tests_dir": project / "tests" / "connectors",
    }
    try:
        if kind is not None:
            made = scaffold(name, kind, sector, file_format=file_format, **where)
        else:
            if from_db:
                intro = introspect_database(from_db, tables_of(tables))
            elif from_file:
                intro = introspect_file(from_file)
            else:
                assert from_url is not None
                intro = introspect_url(from_url)
            made = scaffold_introspected(name, sector, intro, **where)
    except (ScaffoldError, IntrospectionError) as exc:
        _fail(str(exc))
    for path in (made.registry, *made.models, made.test):
        console.print(f"created {path}")
    for line in made.summary:
        colour = "yellow" if "TODO" in line else "cyan" if "guessed" in line else "default"
        console.print(f"[{colour}]{escape(line)}[/]")
    console.print(
        "next: confirm the guesses in the YAML, then `ioc sources validate`, `ioc sources check "
        f"{name}`, `.venv/bin/pytest {made.test}`, `ioc extract {name}`, `ioc dbt sources` "
        "(docs/adding-a-source.md)"
    )


@privacy_app.command("scan")
def privacy_scan() -> None:
    """Search the lake and the warehouse for clear CCCD, BHYT card and phone numbers, names."""
    from connectors.privacy import scan

    settings = get_settings()
    hits, skipped = scan(settings)
    for reason in skipped:
        console.print(f"[yellow]not scanned:[/yellow] {reason}")
    if not hits:
        console.print(
            f"[green]no clear personal data[/green] in {settings.lake_dir} and the warehouse"
        )
        if skipped:
            raise typer.Exit(2)
        return
    table = Table(title="clear personal data")
    for column in ("where", "column", "kind", "values", "sample"):
        table.add_column(column)
    for hit in hits:
        table.add_row(hit.location, hit.column, hit.kind, str(hit.count), hit.sample)
    Console(width=200).print(table)
    _fail(f"{len(hits)} column(s) hold clear personal data")


@sim_app.command("seed")
def sim_seed() -> None:
    """Put the embedded XML 130 fixture files into the demo inbox."""
    from simulator.fixtures import seed_xml130_inbox

    target = seed_xml130_inbox(get_settings().sim_dir)
    console.print(f"demo inbox ready: {target}")


@sim_app.command("generate")
def sim_generate(
    scale: float = typer.Option(0.01, help="1 = one province-year at full size."),
    seed: int = typer.Option(42, help="Same seed, same bytes."),
    start: datetime = typer.Option("2024-01-01", formats=["%Y-%m-%d"], help="First day."),
    end: datetime = typer.Option("2025-12-31", formats=["%Y-%m-%d"], help="Last day (inclusive)."),
    defect_rate: float = typer.Option(0.01, help="Share of records given an injected defect."),
    sector: list[str] = typer.Option(None, help="Only these sectors (repeatable)."),
    no_servers: bool = typer.Option(
        False, help="SQLite files even when PostgreSQL/MariaDB answer."
    ),
) -> None:
    """Generate the demo province into IOC_HOME/sim (replacing what is there)."""
    from simulator.generate import GenerateParams, generate

    settings = get_settings()
    params = GenerateParams(
        scale=scale,
        seed=seed,
        start=start.date(),
        end=end.date(),
        defect_rate=defect_rate,
        pg_url=None if no_servers else settings.sim_pg_url,
        mysql_url=None if no_servers else settings.sim_mysql_url,
        db_prefix=settings.sim_db_prefix,
    )
    try:
        manifest = generate(settings.sim_dir, params, only=sector or None)
    except ValueError as exc:
        _fail(str(exc))
    console.print_json(data=manifest)


@sim_app.command("advance")
def sim_advance(
    hours: float = typer.Option(24, help="How far to move the clock (rounded up to whole days)."),
) -> None:
    """Move the province's clock forward: new records appear, existing ones progress."""
    from simulator.advance import advance

    settings = get_settings()
    try:
        result = advance(
            settings.sim_dir,
            hours,
            settings.sim_pg_url,
            settings.sim_mysql_url,
            settings.sim_db_prefix,
        )
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    console.print(
        f"clock {result.old_end} → {result.new_end}: {len(result.added)} new file(s), "
        f"{len(result.replaced)} updated, {result.unchanged} unchanged"
    )


@sim_app.command("serve")
def sim_serve() -> None:
    """Start the province's servers (HTTP APIs, MQTT publishers) in the background."""
    from simulator.serve import start_all

    for service, pid in start_all(get_settings()):
        console.print(f"{service.name}: pid {pid} — {service.description}")


@sim_app.command("stop")
def sim_stop() -> None:
    """Stop the servers `ioc sim serve` started."""
    from simulator.serve import stop_all

    stopped = stop_all(get_settings())
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@sim_app.command("tick")
def sim_tick(
    every: float = typer.Option(600, help="Seconds between ticks (one province day each)."),
    ticks: int = typer.Option(0, help="Stop after this many ticks (0: run until stopped)."),
) -> None:
    """The demo's clock: each tick moves the province a day on and triggers the extract DAGs
    due that day through Airflow's REST API (`make demo` runs it in the background)."""
    from iochub.ticker import AirflowApi, run_ticker

    settings = get_settings()
    api = AirflowApi.of(settings)
    try:
        run_ticker(settings, api, every, ticks or None, console.print)
    except FileNotFoundError as exc:
        _fail(str(exc))


@sim_app.command("down")
def sim_down(
    source: str = typer.Argument(..., help="A source name from `ioc sources list`."),
) -> None:
    """Take the system a source reads down (database closed, folder gone, API 503, stations
    silent), to watch the IOC contain the failure; `ioc sim up SOURCE` undoes it."""
    from simulator.outage import OutageError, take_down

    try:
        outage = take_down(get_settings(), source)
    except OutageError as exc:
        _fail(str(exc))
    console.print(f"{outage.source} is down ({outage.action}: {outage.target})")


@sim_app.command("up")
def sim_up(
    source: str = typer.Argument(..., help="A source taken down with `ioc sim down`."),
) -> None:
    """Bring a source's system back up after `ioc sim down`."""
    from simulator.outage import OutageError, bring_up

    try:
        outage = bring_up(get_settings(), source)
    except OutageError as exc:
        _fail(str(exc))
    console.print(f"{outage.source} is back up (down since {outage.since})")


@sim_app.command("outages")
def sim_outages() -> None:
    """List the sources taken down with `ioc sim down`."""
    from simulator.outage import active_outages

    outages = active_outages(get_settings())
    for outage in outages:
        console.print(f"{outage.source}: down since {outage.since} ({outage.action})")
    if not outages:
        console.print("no source is down")


@geo_app.command("admin-seeds")
def geo_admin_seeds(
    out: Path = typer.Option(REPO_ROOT / "dbt_project" / "seeds" / "admin", help="Seed folder."),
) -> None:
    """Regenerate the admin-unit seed CSVs from the vietnamadminunits package."""
    from geo.admin_seeds import build_admin_seeds

    for name, rows in build_admin_seeds(out).items():
        console.print(f"{out / name}: {rows} rows")


@geo_app.command("outline")
def geo_outline(
    superset_venv: Path = typer.Option(
        None, help="Superset's environment (default: the project's .venv-superset)."
    ),
    out: Path = typer.Option(
        REPO_ROOT / "geo" / "data" / "province_outline.geojson", help="Outline file to write."
    ),
) -> None:
    """Derive the province outline (committed) from Superset's map of Vietnam's provinces: old
    Đồng Tháp and Tiền Giang dissolved into the new Đồng Tháp."""
    from geo.outline import OutlineError, build_outline

    try:
        written = build_outline(superset_venv or get_settings().superset_venv, out)
    except OutlineError as exc:
        _fail(str(exc))
    console.print(f"wrote {written} ({written.stat().st_size:,} bytes); review the diff")


@geo_app.command("layers")
def geo_layers() -> None:
    """Compute the map layers (province outline, commune zones, facilities, stations, schools,
    offices) from the build warehouse into its schema geo and GeoParquet (warehouse/geo/)."""
    from geo.layers import LayerError, build_layers

    try:
        counts = build_layers(get_settings())
    except LayerError as exc:
        _fail(str(exc))
    for table, rows in counts.items():
        console.print(f"{table}: {rows} rows", markup=False)


@geo_app.command("load-boundaries")
def geo_load_boundaries(
    path: Path = typer.Argument(
        ..., exists=True, help="GeoJSON, Shapefile (.shp) or GeoPackage of the communes."
    ),
    code_column: str = typer.Option(
        None, "--code-column", help="Column holding the 5-digit commune code (default: guessed)."
    ),
    layer: str = typer.Option(None, "--layer", help="Layer of a GeoPackage with several."),
) -> None:
    """Use official commune boundaries instead of the approximate zones from the next build on.

    Every feature must carry a current commune code and every current commune must have a
    polygon; otherwise nothing is loaded and the error lists what to fix."""
    from geo.boundaries import BoundaryError, load_boundaries

    try:
        loaded = load_boundaries(path, get_settings(), code_column=code_column, layer=layer)
    except BoundaryError as exc:
        _fail(str(exc))
    console.print(
        f"loaded {loaded.features_read} feature(s) as {loaded.communes} communes "
        f"({loaded.area_km2:,.0f} km²) into {loaded.path}; the next build uses them "
        "(`ioc geo layers` to apply now)"
    )


@geo_app.command("clear-boundaries")
def geo_clear_boundaries() -> None:
    """Forget the loaded official boundaries: builds go back to approximate (Voronoi) zones."""
    from geo.boundaries import clear_boundaries

    if clear_boundaries(get_settings()):
        console.print("official boundaries removed; the next build uses approximate zones")
    else:
        console.print("no official boundaries were loaded")


@dbt_app.command("sources")
def dbt_sources(
    check: bool = typer.Option(
        False, "--check", help="Only report files out of date with the registry (exit 1 if any)."
    ),
) -> None:
    """Write dbt source definitions (models/staging/<sector>/_<source>__sources.yml) from the
    registry."""
    from iochub.dbt_sources import generate_dbt_sources

    stale = generate_dbt_sources(get_settings(), check=check)
    for path in stale:
        console.print(f"{'out of date' if check else 'wrote'}: {path}")
    if check and stale:
        _fail("dbt sources are out of date: run `ioc dbt sources`")
    if not stale:
        console.print("dbt sources are up to date with the registry")


@docs_app.command("kpis")
def docs_kpis() -> None:
    """Regenerate docs/kpis.md from the KPI catalogue and targets seeds."""
    from iochub.kpi_docs import write_kpi_docs

    console.print(f"wrote {write_kpi_docs(get_settings())}")


@docs_app.command("dbt")
def docs_dbt() -> None:
    """Generate the dbt docs site (models, columns, lineage) into dbt_project/target; open
    target/index.html, or serve it with `dbt docs serve`."""
    from iochub.warehouse import DbtFailed, run_dbt

    try:
        run_dbt(get_settings(), "docs", "generate")
    except DbtFailed as exc:
        _fail(str(exc))
    console.print(f"dbt docs written to {get_settings().dbt_project_dir / 'target'}")


@app.command()
def extract(
    name: str = typer.Argument(None, help="Source name (see `ioc sources list`)."),
    all_sources: bool = typer.Option(False, "--all", help="Extract every declared source."),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Ignore watermarks and handled files; read everything."
    ),
    since: str = typer.Option(
        None, "--since", help="Read incremental tables from this date (YYYY-MM-DD) instead."
    ),
    follow: bool = typer.Option(
        False,
        "--follow",
        help="An MQTT source: stay subscribed and commit a run every batch_seconds until "
        "stopped (SIGTERM/Ctrl-C), telling Airflow what landed.",
    ),
    notify_seconds: float = typer.Option(
        300.0, "--notify-seconds", help="With --follow: tell Airflow at most this often."
    ),
    no_notify: bool = typer.Option(
        False, "--no-notify", help="With --follow: do not tell Airflow."
    ),
) -> None:
    """Extract a source (or --all) into the lake: Parquet, quarantine, manifest.

    Every source named is attempted even when one fails; the command then prints a summary
    table and exits non-zero. A file or record that cannot land is quarantined with its reason
    (`ioc quarantine list`), which is not a failure. A source another process is extracting
    (a listener, a DAG run) is reported as busy and left to it.
    """
    from connectors.kinds.base import ExtractOptions
    from connectors.registry import RegistryError, load_registry
    from iochub.pipeline import extract_all

    settings = get_settings()
    if all_sources == (name is not None):
        _fail("give a source name or --all (not both)")
    if follow:
        if all_sources:
            _fail("--follow lands one source: give its name, not --all")
        _follow(settings, name, None if no_notify else notify_seconds)
        return
    try:
        names = list(load_registry(settings)) if all_sources else [name]
    except RegistryError as exc:
        _fail(f"the source registry is invalid, nothing was extracted:\n{exc}")
    options = ExtractOptions(full_refresh=full_refresh, since=since)
    outcome = extract_all(settings, names, options, on_done=_said_done)
    _extract_summary(outcome)


def _follow(settings: Settings, name: str, notify_seconds: float | None) -> None:
    """``ioc extract NAME --follow`` (iochub.listener)."""
    from connectors.kinds.base import SourceUnavailable
    from connectors.registry import RegistryError, load_registry
    from connectors.source_lock import SourceBusy
    from iochub.listener import follow
    from iochub.ticker import AirflowApi

    try:
        sources = load_registry(settings)
    except RegistryError as exc:
        _fail(f"the source registry is invalid:\n{exc}")
    if name not in sources:
        _fail(f"no source named {name!r} (see `ioc sources list`)")
    api = None if notify_seconds is None else AirflowApi.of(settings)
    try:
        runs = follow(settings, sources[name], api, notify_seconds or 0.0, console.print)
    except (ValueError, SourceBusy, SourceUnavailable) as exc:
        _fail(str(exc))
    console.print(f"{name}: stopped after {runs} run(s)")


def _said_done(name: str, result: Manifest | SourceFailure) -> None:
    from connectors.landing import Manifest

    if isinstance(result, Manifest):
        console.print(
            f"{name}: {result.items_in} new item(s), landed {result.rows_landed}, "
            f"quarantined {result.items_quarantined} item(s) / {result.rows_quarantined} row(s)"
        )
    else:
        console.print(f"[red]{name}: failed: {result}[/red]")


def _extract_summary(outcome: ExtractOutcome) -> None:
    """The table of every source attempted; exits non-zero when one failed."""
    table = Table(title="extract summary")
    for column in ("source", "status", "new items", "rows landed / quarantined", "note"):
        table.add_column(column, overflow="fold")
    for row in outcome.summary():
        table.add_row(*row, style="red" if row[1] == "FAILED" else None)
    Console().print(table)
    if outcome.failures:
        errors = "\n".join(f"  {name}: {error}" for name, error in outcome.failures.items())
        _fail(
            f"{len(outcome.failures)} of {len(outcome.attempted)} source(s) failed:\n{errors}\n"
            "(also in lake/_failures and `meta.meta_source_freshness`). Fix the cause and run "
            "the same command again: what landed is not landed twice."
        )


@app.command()
def build(
    full_refresh: bool = typer.Option(
        False,
        "--full-refresh",
        help="Rebuild every model from the whole lake, not only what the sources that landed "
        "since the last build changed.",
    ),
) -> None:
    """dbt build → GIS layers → publish gate (Great Expectations) → atomic publish of
    serving.duckdb.

    Only what changed is rebuilt: the models of the sources with new extract runs since the last
    build and everything downstream (the large facts merge only the new runs), plus the models
    judged on the build's clock. A changed dbt project or registry, or --full-refresh, rebuilds
    everything.
    """
    from connectors.landing import new_run_id
    from expectations.gate import GateFailed
    from geo.layers import LayerError
    from iochub.superset import import_new_source_datasets
    from iochub.warehouse import DbtFailed, build_and_publish

    settings = get_settings()
    try:
        outcome = build_and_publish(settings, new_run_id(), full_refresh)
    except (DbtFailed, LayerError, GateFailed) as exc:
        _fail(str(exc))
    if outcome.plan is not None:
        console.print(f"dbt: {outcome.plan.describe()}")
    console.print(
        f"[green]published[/green] {len(outcome.published)} tables "
        f"({len(outcome.gate.outcomes)} expectations passed)"
    )
    _report_alerts(outcome.alerts)
    added = import_new_source_datasets(settings)
    if added:
        console.print(f"Superset: dataset(s) added for {', '.join(added)}")


def _report_alerts(result: NotifyResult | None) -> None:
    if result is None:
        return
    sent = ", ".join(f"{name} {count}" for name, count in result.sent.items()) or "no channel set"
    console.print(f"{result.open_alerts} open alert(s); sent: {sent}")
    for name, error in result.failed.items():
        console.print(f"[red]alert channel {name} failed[/red]: {error} (retried next publish)")


@app.command()
def run() -> None:
    """Extract every source, then build and publish (what the DAGs do, without Airflow).

    A failing source does not stop the others or the build (the warehouse is built from what
    the lake holds); the command ends with the extract summary and exits non-zero if any failed.
    """
    from expectations.gate import GateFailed
    from geo.layers import LayerError
    from iochub.pipeline import run_pipeline
    from iochub.warehouse import DbtFailed

    settings = get_settings()
    try:
        extracted, outcome = run_pipeline(settings)
    except (DbtFailed, LayerError, GateFailed) as exc:
        _fail(str(exc))
    console.print(f"[green]published[/green] {settings.serving_db}: {outcome.published}")
    _report_alerts(outcome.alerts)
    _extract_summary(extracted)


@alerts_app.command("list")
def alerts_list(
    all_episodes: bool = typer.Option(False, "--all", help="Closed episodes too."),
) -> None:
    """The alerts of the published warehouse: the open ones, or every episode with --all."""
    from iochub.alerts import read_alerts

    settings = get_settings()
    if not settings.serving_db.exists():
        _fail(f"no published warehouse at {settings.serving_db}: run `ioc build` first")
    alerts = read_alerts(settings.serving_db, only_open=not all_episodes)
    table = Table(title=f"{len(alerts)} {'alert episode(s)' if all_episodes else 'open alert(s)'}")
    for column in ("severity", "rule", "subject", "since", "measure", "threshold"):
        table.add_column(column)
    for alert in alerts:
        table.add_row(
            alert.severity,
            alert.alert_rule,
            f"{alert.subject_name} ({alert.subject_code})",
            alert.started_at or "-",
            alert.measure_text(),
            alert.threshold_text(),
        )
    console.print(table)


@alerts_app.command("notify")
def alerts_notify() -> None:
    """Send the open alerts each configured channel has not had (IOC_ALERT_WEBHOOK_URL,
    IOC_ALERT_SMTP with IOC_ALERT_EMAIL_TO)."""
    from iochub.alerts import configured_notifiers, notify_open_alerts

    settings = get_settings()
    if not configured_notifiers(settings):
        _fail("no alert channel set: set IOC_ALERT_WEBHOOK_URL and/or IOC_ALERT_SMTP")
    result = notify_open_alerts(settings)
    _report_alerts(result)
    if result.failed:
        raise typer.Exit(1)


def _source_names(source: str | None) -> list[str]:
    from connectors.registry import load_registry

    names = list(load_registry(get_settings()))
    if source is not None and source not in names:
        _fail(f"no source named {source!r} (see `ioc sources list`)")
    return [source] if source else names


@quarantine_app.command("list")
def quarantine_list(
    source: str = typer.Argument(None, help="Only this source."),
    reason: str = typer.Option(None, "--reason", help="Only this reason (e.g. not_in_code_list)."),
    released: bool = typer.Option(False, "--released", help="Released entries too."),
    limit: int = typer.Option(50, "--limit", help="Show at most this many, newest first."),
) -> None:
    """Quarantined files and rows, newest first, with their reason; totals per reason below."""
    from collections import Counter

    from connectors.quarantine import all_entries

    found = [
        e
        for e in all_entries(get_settings(), _source_names(source))
        if (reason is None or e.reason == reason) and (released or e.released_by is None)
    ]
    found.sort(key=lambda e: e.quarantined_at, reverse=True)
    table = Table(title=f"quarantine ({len(found)} entries{'' if released else ', open'})")
    table.add_column("id", no_wrap=True)
    table.add_column("source.table", overflow="fold")
    table.add_column("item", overflow="fold")
    table.add_column("reason", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    table.add_column("day", no_wrap=True)
    for entry in found[:limit]:
        table.add_row(
            entry.id[:8],
            f"{entry.source}.{entry.table or '(file)'}",
            entry.item,
            entry.reason + (" (released)" if entry.released_by else ""),
            entry.detail[:100] + ("…" if len(entry.detail) > 100 else ""),
            entry.quarantined_at[:10],
        )
    out = Console()
    out.print(table)
    totals = Counter((e.source, e.table or "(file)", e.reason) for e in found)
    for (name, table_name, why), count in sorted(totals.items()):
        out.print(f"  {name}.{table_name}: {why} × {count}")
    if len(found) > limit:
        out.print(f"  … {len(found) - limit} more (--limit, --reason, or a source name)")


@quarantine_app.command("show")
def quarantine_show(
    entry_id: str = typer.Argument(..., help="An id from `list` (or its start)."),
) -> None:
    """One entry whole: reason, detail, what to do, and what was sent (rows as JSON, files as
    their first lines)."""
    from connectors.quarantine import ReleaseError, find

    try:
        entry = find(get_settings(), _source_names(None), entry_id)
    except ReleaseError as exc:
        _fail(str(exc))
    out = Console()
    out.print(f"[bold]{entry.id}[/bold]  {entry.source}.{entry.table or '(whole file)'}")
    out.print(f"item:        {entry.item}")
    out.print(f"reason:      {entry.reason}")
    out.print(f"detail:      {entry.detail}")
    out.print(f"what to do:  {entry.advice}")
    out.print(f"run:         {entry.run_id} at {entry.quarantined_at}")
    if entry.released_by:
        out.print(f"released by: run {entry.released_by}")
    if entry.table is not None:
        out.print_json(entry.raw.decode("utf-8"))
    else:
        text = entry.raw[:2000].decode("utf-8", errors="replace")
        out.print(f"content:     {len(entry.raw):,} bytes, sha256 {entry.id}…", markup=False)
        out.print(text + ("\n…" if len(entry.raw) > 2000 else ""), markup=False)


@quarantine_app.command("release")
def quarantine_release(
    entry_ids: list[str] = typer.Argument(None, help="Entry ids from `list`."),
    source: str = typer.Option(None, "--source", help="Every open entry of this source…"),
    reason: str = typer.Option(None, "--reason", help="…with this reason only."),
) -> None:
    """Land quarantined entries again after their declaration was widened (once: a released
    entry is never landed twice; an entry that would still be refused is left as it is)."""
    from connectors.quarantine import ReleaseError, all_entries, find, release
    from connectors.registry import load_registry

    settings = get_settings()
    if bool(entry_ids) == (source is not None):
        _fail("give entry ids, or --source (and optionally --reason)")
    try:
        if entry_ids:
            chosen = [find(settings, _source_names(None), i) for i in entry_ids]
        else:
            chosen = [
                e
                for e in all_entries(settings, _source_names(source))
                if e.released_by is None and (reason is None or e.reason == reason)
            ]
        if not chosen:
            _fail("no open entry matches")
        registry = load_registry(settings)
        for name in dict.fromkeys(e.source for e in chosen):
            mine = [e for e in chosen if e.source == name]
            manifest = release(registry[name], settings, mine)
            if manifest is None:
                console.print(f"{name}: {len(mine)} entr(ies) already released, nothing to do")
                continue
            console.print(
                f"[green]{name}: released {len(manifest.released)} entr(ies)[/green] in run "
                f"{manifest.run_id}: landed {manifest.rows_landed}"
            )
    except ReleaseError as exc:
        _fail(str(exc))


kpi_app = typer.Typer(
    help="KPIs of the published warehouse (marts.fct_kpi_value): why a value is what it is.",
    no_args_is_help=True,
)
app.add_typer(kpi_app, name="kpi")


@kpi_app.command("explain")
def kpi_explain(
    kpi_id: str = typer.Argument(..., help="Indicator id, e.g. 766-4.2 (docs/kpis.md)."),
    period: str = typer.Option(
        ..., "--period", help="A month (2025-09), a quarter (2025-Q3) or a year (2025)."
    ),
    commune: str = typer.Option(None, "--commune", help="A 2025 commune code (e.g. 28261)."),
    district: str = typer.Option(
        None, "--district", help="An old district code (months before 2025-07)."
    ),
    top: int = typer.Option(10, "--top", min=0, help="How many records to rank."),
    as_json: bool = typer.Option(False, "--json", help="Print the explanation as JSON."),
) -> None:
    """Why an indicator has its value for a period and a unit (the province unless --commune
    or --district): numerator and denominator, target, QĐ 766 points, the rules applied with
    their references (an interpretation shows the alternative reading's value), and the
    records (dossiers, petitions) that moved it most, each with its effect and reason."""
    from iochub import kpi_explain as explainer

    try:
        unit = explainer.AdminUnit.choose(commune=commune, district=district)
        explanation = explainer.explain_published(
            get_settings().serving_db, kpi_id, period, unit, top
        )
    except explainer.ExplainError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(explainer.as_json(explanation))
    else:
        explainer.render(explanation, Console(width=max(Console().width, 100)))


@demo_app.command("up")
def demo_up() -> None:
    """Run the pipeline once through Airflow, then leave Airflow and Superset running."""
    from iochub import demo
    from iochub.airflow_services import AirflowError

    settings = get_settings()
    try:
        landing = demo.up(settings, lambda msg: console.print(f"[bold]›[/bold] {msg}"))
    except (AirflowError, superset.SupersetError, TimeoutError) as exc:
        _fail(f"{exc}\nFix the cause, then run `make demo` again (finished steps are skipped).")
    Console().print(
        "\n[bold green]iochub demo is running[/bold green]\n"
        f"  Superset (dashboards): {superset.public_url(settings)}/dashboard/list/\n"
        f"  IOC wall (kiosk):      {superset.public_url(settings)}"
        "/superset/dashboard/tong-quan-ioc/?standalone=1\n"
        f"  Airflow (pipelines):   http://localhost:{settings.airflow_port}/\n"
        f"  login: admin / {settings.admin_password}\n"
        "  roles: vanhanh (operator), lanhdao_tinh (province leader), lanhdao_xa_28261 "
        f"(commune leader) / {settings.demo_users_password}\n"
        f"  warehouse: {settings.serving_db}\n"
        "  stop with: make stop"
    )
    if landing.failures:
        _extract_summary(landing)  # the demo runs, but says loudly what did not land


@demo_app.command("down")
def demo_down() -> None:
    """Stop the Airflow and Superset processes that `ioc demo up` started (only those)."""
    from iochub import demo

    stopped = demo.down(get_settings())
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


if __name__ == "__main__":
    sys.exit(app())
