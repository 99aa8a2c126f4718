"""Superset for the wall: bootstrap, start/stop, and the versioned assets bundle.

This module is the only place that drives Superset. It runs Superset from its own virtual
environment (``.venv-superset``; Superset 6.1 cannot share the pipeline's), always with
``superset_assets/superset_config.py`` and an environment built here, so the Superset process
reads nothing else from the machine.

- ``bootstrap``: metadata database upgrade, the ``admin`` user, roles and permissions
  (idempotent: checks the metadata database first and skips what is done).
- ``import``: zips ``superset_assets/bundle/`` (readable YAML) with the per-machine placeholders
  filled in and imports it, with a dataset for each published source mart
  (:mod:`iochub.superset_sources`), overwriting the objects it contains; then roles, row-level
  security and demo users from ``superset_assets/access.yaml`` (:mod:`iochub.superset_access`).
- ``export``: exports the dashboards from a running Superset and writes them back as normalised,
  readable YAML (UTF-8, sorted keys, placeholders restored) for review in git.
- ``start`` / ``stop``: gunicorn in the background (one worker, a few threads) with a pidfile.
- ``warm_up_cache``: after each publish, every chart's data recomputed into the cache.

Placeholders in the bundle: ``${IOC_SERVING_DB}`` (absolute path of the published
``serving.duckdb``) and ``${IOC_BASE_MAP}`` (the offline base map served by Superset itself).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import typer
import yaml

from iochub import processes
from iochub.settings import REPO_ROOT, Settings, get_settings
from iochub.superset_sources import generated_uuids, source_datasets

ASSETS_DIR = REPO_ROOT / "superset_assets"
BUNDLE_DIR = ASSETS_DIR / "bundle"
CONFIG_PATH = ASSETS_DIR / "superset_config.py"
SERVICE = "superset"
ADMIN_USER = "admin"
log = logging.getLogger(__name__)
BUNDLE_ROOT = "iochub_assets"  # the one top-level folder Superset expects inside the ZIP
START_TIMEOUT = 240.0

PLACEHOLDER_SERVING_DB = "${IOC_SERVING_DB}"
PLACEHOLDER_BASE_MAP = "${IOC_BASE_MAP}"

app = typer.Typer(
    help="Superset for the wall: bootstrap, start/stop, import/export the assets bundle.",
    no_args_is_help=True,
)


class SupersetError(RuntimeError):
    """A Superset step failed; the message says what to do about it."""


# --- environment ------------------------------------------------------------------------------
def public_url(settings: Settings, port: int | None = None) -> str:
    """Address browsers use to reach Superset (``IOC_SUPERSET_PUBLIC_URL`` overrides it)."""
    if settings.superset_public_url:
        return settings.superset_public_url.rstrip("/")
    return f"http://localhost:{port or settings.superset_port}"


def base_map(settings: Settings, port: int | None = None) -> str:
    """The deck.gl ``mapbox_style`` value of the offline tile route (see superset_config.py)."""
    return f"tile://{public_url(settings, port)}/ioc-tiles/{{z}}/{{x}}/{{y}}.png"


def metadata_db_url(settings: Settings) -> str:
    """Superset's metadata database: PostgreSQL if ``IOC_SUPERSET_DB_URL`` is set, else SQLite."""
    return settings.superset_db_url or (
        f"sqlite:///{settings.superset_home / 'superset.db'}?check_same_thread=false"
    )


def superset_env(settings: Settings, port: int | None = None) -> dict[str, str]:
    """Variables every Superset process gets on top of ``os.environ``."""
    settings.superset_home.mkdir(parents=True, exist_ok=True)
    return {
        **settings.tool_environment(),
        "SUPERSET_CONFIG_PATH": str(CONFIG_PATH),
        "SUPERSET_SECRET_KEY": settings.superset_secret_key,
        "SUPERSET_HOME": str(settings.superset_home),
        "IOC_SUPERSET_DB_URL": metadata_db_url(settings),
        "IOC_SUPERSET_PUBLIC_URL": public_url(settings, port),
        "FLASK_APP": "superset.app:create_app()",
        "PYTHONUNBUFFERED": "1",
        "DO_NOT_TRACK": "1",
    }


def _venv_bin(settings: Settings, name: str) -> Path:
    path = settings.superset_venv / "bin" / name
    if not path.exists():
        raise SupersetError(
            f"{path} not found. Create the Superset environment first: `make` (or "
            f"`uv venv {settings.superset_venv} && uv pip install --python "
            f"{settings.superset_venv}/bin/python -r superset_assets/requirements.lock.txt`)."
        )
    return path


def _run(
    settings: Settings, argv: list[str], what: str, extra_env: dict[str, str] | None = None
) -> str:
    env = {**os.environ, **superset_env(settings), **(extra_env or {})}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise SupersetError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


def _superset_cli(settings: Settings, *args: str, what: str) -> str:
    return _run(settings, [str(_venv_bin(settings, "superset")), *args], what)


# --- bootstrap --------------------------------------------------------------------------------
# Runs in .venv-superset without importing Superset (fast): reports the metadata database state.
_STATE_SCRIPT = r"""
import json, os, importlib.metadata as md
import sqlalchemy as sa
from werkzeug.security import check_password_hash
state = {"version": md.version("apache-superset"), "revision": None, "admin": False,
         "password_ok": False, "admin_role_perms": 0}
engine = sa.create_engine(os.environ["IOC_SUPERSET_DB_URL"])
with engine.connect() as conn:
    tables = set(sa.inspect(conn).get_table_names())
    if "alembic_version" in tables:
        state["revision"] = conn.execute(
            sa.text("SELECT version_num FROM alembic_version")).scalar()
    if "ab_user" in tables:
        row = conn.execute(sa.text("SELECT password FROM ab_user WHERE username = :u"),
                           {"u": os.environ["IOC_CHECK_USER"]}).first()
        if row is not None:
            state["admin"] = True
            state["password_ok"] = check_password_hash(row[0] or "",
                                                       os.environ["IOC_CHECK_PASSWORD"])
    if "ab_permission_view_role" in tables:
        state["admin_role_perms"] = conn.execute(sa.text(
            "SELECT count(*) FROM ab_permission_view_role pvr JOIN ab_role r "
            "ON r.id = pvr.role_id WHERE r.name = 'Admin'")).scalar()
print(json.dumps(state))
"""


def _metadata_state(settings: Settings) -> dict[str, Any]:
    out = _run(
        settings,
        [str(_venv_bin(settings, "python")), "-c", _STATE_SCRIPT],
        "Reading Superset's metadata database",
        {"IOC_CHECK_USER": ADMIN_USER, "IOC_CHECK_PASSWORD": settings.admin_password},
    )
    state: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return state


def _marker(settings: Settings) -> Path:
    return settings.superset_home / "bootstrap.json"


def bootstrap(settings: Settings, echo: bool = True) -> list[str]:
    """Upgrade the metadata database, create ``admin`` and run ``superset init`` as needed.

    Returns the steps that ran (empty when everything was already done).
    """

    def say(message: str) -> None:
        if echo:
            typer.echo(message)

    state = _metadata_state(settings)
    marker = _marker(settings)
    recorded: dict[str, Any] = json.loads(marker.read_text()) if marker.exists() else {}
    current = (
        state["revision"] is not None
        and recorded.get("revision") == state["revision"]
        and recorded.get("version") == state["version"]
    )
    steps: list[str] = []
    if not current:
        say("superset db upgrade …")
        _superset_cli(settings, "db", "upgrade", what="superset db upgrade")
        steps.append("db upgrade")
    if not state["admin"]:
        say("creating the admin user …")
        _superset_cli(
            settings,
            "fab",
            "create-admin",
            "--username", ADMIN_USER,
            "--firstname", "IOC",
            "--lastname", "Admin",
            "--email", "admin@iochub.invalid",
            "--password", settings.admin_password,
            what="superset fab create-admin",
        )  # fmt: skip
        steps.append("create admin")
    elif not state["password_ok"]:
        say("resetting the admin password …")
        _superset_cli(
            settings,
            "fab",
            "reset-password",
            "--username", ADMIN_USER,
            "--password", settings.admin_password,
            what="superset fab reset-password",
        )  # fmt: skip
        steps.append("reset admin password")
    if not current or state["admin_role_perms"] == 0:
        say("superset init (roles and permissions) …")
        _superset_cli(settings, "init", what="superset init")
        steps.append("init")
    if steps:
        state = _metadata_state(settings)
        marker.write_text(
            json.dumps({"version": state["version"], "revision": state["revision"]}) + "\n"
        )
    return steps


# --- the assets bundle ------------------------------------------------------------------------
def _substitutions(settings: Settings, port: int | None = None) -> dict[str, str]:
    return {
        PLACEHOLDER_SERVING_DB: str(settings.serving_db),
        PLACEHOLDER_BASE_MAP: base_map(settings, port),
    }


def _bundle_files(bundle_dir: Path) -> list[Path]:
    files = sorted(p for p in bundle_dir.rglob("*.yaml") if p.is_file())
    if not any(p.name == "metadata.yaml" for p in files):
        raise SupersetError(f"{bundle_dir} has no metadata.yaml: is this an assets bundle?")
    return files


def _to_import_form(rel: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Readable bundle form → what Superset's importer validates (JSON-in-strings)."""
    if rel.startswith("charts/") and isinstance(doc.get("query_context"), dict):
        doc["query_context"] = json.dumps(doc["query_context"], ensure_ascii=False)
    return doc


def build_bundle_zip(
    settings: Settings, port: int | None = None, bundle_dir: Path = BUNDLE_DIR
) -> bytes:
    """The bundle as a ZIP for Superset's importer, placeholders filled in, with a dataset for
    each published source mart (iochub.superset_sources)."""
    subs = _substitutions(settings, port)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _bundle_files(bundle_dir):
            rel = path.relative_to(bundle_dir).as_posix()
            text = path.read_text(encoding="utf-8")
            for placeholder, value in subs.items():
                text = text.replace(placeholder, value)
            leftover = re.search(r"\$\{IOC_[A-Z_]+\}", text)
            if leftover:
                raise SupersetError(f"{rel}: unknown placeholder {leftover.group(0)}")
            doc = _to_import_form(rel, yaml.safe_load(text))
            archive.writestr(f"{BUNDLE_ROOT}/{rel}", dump_yaml(doc, sort_keys=False))
        for rel, doc in source_datasets(settings).items():
            archive.writestr(f"{BUNDLE_ROOT}/{rel}", dump_yaml(doc, sort_keys=False))
    return buffer.getvalue()


class _Api:
    """A logged-in REST session against a running Superset (JWT + CSRF token)."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        import httpx

        self.base = f"http://127.0.0.1:{port or settings.superset_port}"
        self.client = httpx.Client(base_url=self.base, timeout=120)
        login = self.client.post(
            "/api/v1/security/login",
            json={
                "username": ADMIN_USER,
                "password": settings.admin_password,
                "provider": "db",
                "refresh": False,
            },
        )
        if login.status_code != 200:
            raise SupersetError(
                f"Login to {self.base} as {ADMIN_USER} failed (HTTP {login.status_code}). "
                "Run `ioc superset bootstrap` (it resets the admin password to the configured one)."
            )
        self.client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self.client.get("/api/v1/security/csrf_token/")
        csrf.raise_for_status()
        self.client.headers["X-CSRFToken"] = csrf.json()["result"]
        self.client.headers["Referer"] = self.base

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, **kwargs)
        if response.status_code >= 400:
            raise SupersetError(f"GET {path}: HTTP {response.status_code} {response.text[:500]}")
        return response

    def list_all(self, resource: str) -> list[dict[str, Any]]:
        """Every item of a list endpoint (``chart``, ``dashboard``, …): Superset caps a page
        at 100 items whatever ``page_size`` asks for."""
        items: list[dict[str, Any]] = []
        page = 0
        while True:
            query = {"q": f"(page:{page},page_size:100)"}
            batch = self.get(f"/api/v1/{resource}/", params=query).json()["result"]
            items.extend(batch)
            if len(batch) < 100:
                return items
            page += 1

    def close(self) -> None:
        self.client.close()


def _is_up(settings: Settings, port: int | None = None) -> bool:
    import httpx

    port = port or settings.superset_port
    if not processes.port_in_use(port):
        return False
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def warm_up_cache(settings: Settings, port: int | None = None) -> dict[str, str] | None:
    """Recompute every chart's data into Superset's cache after a publish, so the wall's first
    refresh after it is served from the cache. Superset's own warm-up endpoint runs each chart
    with ``force``: the saved query context of the bundle for current charts, the legacy viz
    path for deck.gl GeoJSON maps (which have none). None when Superset is not running (nothing
    to warm); otherwise the query status per chart name."""
    if not _is_up(settings, port):
        log.info("superset: not running on %s, no cache to warm", port or settings.superset_port)
        return None
    api = _Api(settings, port)
    statuses: dict[str, str] = {}
    errors: dict[str, str] = {}
    try:
        for chart in api.list_all("chart"):
            response = api.client.put("/api/v1/chart/warm_up_cache", json={"chart_id": chart["id"]})
            (result,) = response.json().get("result") or [{"viz_error": response.text[:300]}]
            statuses[chart["slice_name"]] = str(result.get("viz_status"))
            if response.status_code != 200 or result.get("viz_error"):
                errors[chart["slice_name"]] = str(result.get("viz_error"))
    finally:
        api.close()
    if errors:
        raise SupersetError(f"cache warm-up: chart data failed for {errors}")
    log.info("superset: cache warmed for %d chart(s)", len(statuses))
    return statuses


def import_new_source_datasets(settings: Settings, port: int | None = None) -> list[str]:
    """After a publish: when a source mart reached the serving warehouse that the running
    Superset has no dataset for, import the bundle again (the datasets are made from the
    registry, and access re-applied to them), so a new system is in SQL Lab as soon as it is
    published. Returns the marts added; nothing is done when Superset is not running (the next
    `ioc superset import`, as `make demo` runs it, adds them) or nothing is new."""
    wanted = {str(doc["table_name"]) for doc in source_datasets(settings).values()}
    if not wanted or not _is_up(settings, port):
        return []
    api = _Api(settings, port)
    try:
        have = {d["table_name"] for d in api.list_all("dataset") if d.get("schema") == "marts"}
    finally:
        api.close()
    missing = sorted(wanted - have)
    if missing:
        import_assets(settings, port)
        log.info("superset: datasets added for %s", ", ".join(missing))
    return missing


# Runs in .venv-superset: imports a bundle ZIP without a running server, as the admin user.
_IMPORT_SCRIPT = r"""
import sys, zipfile
from flask import g
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.commands.importers.v1.utils import get_contents_from_bundle
    g.user = security_manager.find_user(username=sys.argv[2])
    with zipfile.ZipFile(sys.argv[1]) as bundle:
        ImportAssetsCommand(get_contents_from_bundle(bundle)).run()
print("imported")
"""


def import_assets(
    settings: Settings, port: int | None = None, bundle_dir: Path = BUNDLE_DIR
) -> str:
    """Import the bundle, then make roles, row-level security and demo users match
    ``superset_assets/access.yaml``; returns how the bundle was imported."""
    from iochub.superset_access import apply_access  # it builds on this module

    how = _import_bundle(settings, port, bundle_dir)
    apply_access(settings, bundle_dir=bundle_dir)
    return how


def _import_bundle(settings: Settings, port: int | None, bundle_dir: Path) -> str:
    """Import the bundle, overwriting what it contains; returns how it was imported.

    Uses the REST API when Superset is running on ``port``; otherwise runs the same import
    command in a short-lived Superset process.
    """
    if not settings.serving_db.exists():
        raise SupersetError(
            f"{settings.serving_db} does not exist yet: run the pipeline first (`ioc run`); "
            "the dashboards read the published warehouse."
        )
    payload = build_bundle_zip(settings, port, bundle_dir)
    if _is_up(settings, port):
        api = _Api(settings, port)
        try:
            response = api.client.post(
                "/api/v1/assets/import/",
                files={"bundle": ("iochub_assets.zip", payload, "application/zip")},
            )
        finally:
            api.close()
        if response.status_code != 200:
            raise SupersetError(
                f"Import failed (HTTP {response.status_code}): {response.text[:2000]}"
            )
        return "rest"
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    zip_path = settings.run_dir / "superset_bundle.zip"
    zip_path.write_bytes(payload)
    try:
        _run(
            settings,
            [str(_venv_bin(settings, "python")), "-c", _IMPORT_SCRIPT, str(zip_path), ADMIN_USER],
            "Importing the assets bundle (did `ioc superset bootstrap` run?)",
            {"IOC_SUPERSET_PUBLIC_URL": public_url(settings, port)},
        )
    finally:
        zip_path.unlink(missing_ok=True)
    return "offline"


# --- export -----------------------------------------------------------------------------------
def _slug(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "item"


def _restore_placeholders(value: Any, subs: dict[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, actual in subs.items():
            value = value.replace(actual, placeholder)
        return value
    if isinstance(value, dict):
        return {k: _restore_placeholders(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_placeholders(v, subs) for v in value]
    return value


def number_charts(position: dict[str, Any]) -> None:
    """Renumber a dashboard layout's ``chartId``s 1, 2, … in component order. They are the
    installation's database ids, which the importer rewrites from each chart's uuid; left as
    exported, every export would show them changing."""
    charts = sorted(
        key
        for key, item in position.items()
        if isinstance(item, dict) and item.get("type") == "CHART"
    )
    for number, key in enumerate(charts, start=1):
        position[key]["meta"]["chartId"] = number


def normalise_exported(rel: str, doc: dict[str, Any], subs: dict[str, str]) -> dict[str, Any]:
    """Exported YAML → the bundle's readable form (numeric ids that import rewrites dropped)."""
    if rel.startswith("dashboards/"):
        number_charts(doc.get("position") or {})
    if rel.startswith("charts/"):
        params = doc.get("params") or {}
        params.pop("datasource", None)  # rewritten at import from dataset_uuid
        query_context = doc.get("query_context")
        if isinstance(query_context, str) and query_context:
            parsed = json.loads(query_context)
            parsed.pop("datasource", None)
            (parsed.get("form_data") or {}).pop("datasource", None)
            for query in parsed.get("queries", []):
                query.pop("datasource", None)
            doc["query_context"] = parsed
    if rel.startswith("datasets/"):
        doc["columns"] = sorted(doc.get("columns") or [], key=lambda c: c["column_name"])
        doc["metrics"] = sorted(doc.get("metrics") or [], key=lambda m: m["metric_name"])
    result: dict[str, Any] = _restore_placeholders(doc, subs)
    return result


def _target_name(rel: str, doc: dict[str, Any], existing: dict[str, str]) -> str:
    uuid = str(doc.get("uuid", ""))
    if uuid in existing:
        return existing[uuid]
    folder, _, name = rel.rpartition("/")
    label = doc.get("slice_name") or doc.get("dashboard_title") or doc.get("table_name")
    label = label or doc.get("database_name") or Path(name).stem
    return f"{folder}/{_slug(str(label))}.yaml" if folder else name


class _PlainDumper(yaml.SafeDumper):
    """Safe YAML without anchors/aliases, so repeated mappings stay readable in diffs; text of
    several lines (a dataset's SQL, a markdown cell) as a literal block, so a diff shows the
    changed line rather than one long escaped string."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted scalar by itself when a block cannot hold the text
    # exactly (trailing spaces, tabs, control characters).
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_PlainDumper.add_representer(str, _represent_text)


def dump_yaml(doc: Any, sort_keys: bool = True) -> str:
    """Readable YAML: UTF-8 text (no \\u escapes), sorted keys, no anchors."""
    return yaml.dump(doc, Dumper=_PlainDumper, allow_unicode=True, sort_keys=sort_keys, width=100)


def export_assets(
    settings: Settings, port: int | None = None, bundle_dir: Path = BUNDLE_DIR
) -> list[Path]:
    """Export every dashboard of a running Superset into ``bundle_dir`` as readable YAML."""
    if not _is_up(settings, port):
        raise SupersetError("Superset is not running: start it first (`ioc superset start`).")
    api = _Api(settings, port)
    try:
        ids = [str(item["id"]) for item in api.list_all("dashboard")]
        if not ids:
            raise SupersetError("No dashboards to export: run `ioc superset import` first.")
        payload = api.get("/api/v1/dashboard/export/", params={"q": f"!({','.join(ids)})"}).content
    finally:
        api.close()

    subs = _substitutions(settings, port)
    existing: dict[str, str] = {}
    if bundle_dir.exists():
        for path in bundle_dir.rglob("*.yaml"):
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if isinstance(doc, dict) and doc.get("uuid"):
                existing[str(doc["uuid"])] = path.relative_to(bundle_dir).as_posix()

    generated = generated_uuids(settings)  # made from the registry at each import: not kept
    written: list[Path] = []
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        for member in sorted(archive.namelist()):
            if not member.endswith(".yaml"):
                continue
            rel = member.split("/", 1)[1]
            doc = yaml.safe_load(archive.read(member).decode("utf-8"))
            if rel.startswith("datasets/") and str(doc.get("uuid")) in generated:
                continue
            if rel == "metadata.yaml":
                doc = {"type": "assets", "version": doc.get("version", "1.0.0"),
                       "timestamp": "1970-01-01T00:00:00+00:00"}  # fmt: skip
                target = "metadata.yaml"
            else:
                doc = normalise_exported(rel, doc, subs)
                target = _target_name(rel, doc, existing)
            out = bundle_dir / target
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(dump_yaml(doc), encoding="utf-8")
            written.append(out)
    for stale in set(bundle_dir.rglob("*.yaml")) - set(written):
        stale.unlink()
    return written


# --- service ----------------------------------------------------------------------------------
def start(settings: Settings, port: int | None = None, host: str = "127.0.0.1") -> int:
    """Start gunicorn in the background and wait until ``/health`` answers; returns its PID."""
    port = port or settings.superset_port
    pid = processes.running_pid(settings, SERVICE)
    if pid is not None:
        return pid
    if processes.port_in_use(port):
        raise SupersetError(
            f"Port {port} is already in use by another program. Stop it, or choose another "
            "port with IOC_SUPERSET_PORT / --port."
        )
    argv = [
        str(_venv_bin(settings, "gunicorn")),
        "--workers", "1",
        "--worker-class", "gthread",
        "--threads", "4",
        "--timeout", "120",
        "--bind", f"{host}:{port}",
        "--limit-request-line", "0",
        "--limit-request-field_size", "0",
        "superset.app:create_app()",
    ]  # fmt: skip
    pid = processes.start(settings, SERVICE, argv, env=superset_env(settings, port))
    try:
        processes.wait_for_http(
            f"http://127.0.0.1:{port}/health",
            timeout=START_TIMEOUT,
            log=settings.run_dir / f"{SERVICE}.log",
        )
    except TimeoutError as exc:
        processes.stop(settings, SERVICE)
        raise SupersetError(f"Superset did not start: {exc}") from exc
    return pid


def stop(settings: Settings) -> bool:
    """Stop the Superset started by :func:`start`; returns whether one was running."""
    return processes.stop(settings, SERVICE)


# --- command line -----------------------------------------------------------------------------
def _fail(exc: SupersetError) -> None:
    typer.secho(str(exc), fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command("bootstrap")
def bootstrap_cmd() -> None:
    """Prepare Superset's metadata database and the admin user (safe to repeat)."""
    settings = get_settings()
    try:
        steps = bootstrap(settings)
    except SupersetError as exc:
        _fail(exc)
    typer.echo(f"Superset bootstrap: {', '.join(steps) if steps else 'already done'}.")


@app.command("import")
def import_cmd() -> None:
    """Import superset_assets/bundle/ (overwrites the dashboards, charts and datasets it holds),
    then the roles, row-level security and demo users of superset_assets/access.yaml."""
    settings = get_settings()
    try:
        how = import_assets(settings)
    except SupersetError as exc:
        _fail(exc)
    typer.echo(f"Imported {BUNDLE_DIR} ({'through the API' if how == 'rest' else 'offline'}).")
    typer.echo(
        f"Roles and demo users: {ASSETS_DIR / 'access.yaml'}; the demo users' password is in "
        f"{settings.demo_users_password_file} (or IOC_DEMO_USERS_PASSWORD)."
    )


@app.command("export")
def export_cmd() -> None:
    """Export the running Superset's dashboards back into superset_assets/bundle/ as YAML."""
    settings = get_settings()
    try:
        written = export_assets(settings)
    except SupersetError as exc:
        _fail(exc)
    typer.echo(f"Wrote {len(written)} files under {BUNDLE_DIR}; review them with `git diff`.")


@app.command("start")
def start_cmd(
    port: int = typer.Option(0, help="Port to listen on (default: IOC_SUPERSET_PORT or 8088)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; 0.0.0.0 for wall screens."),
) -> None:
    """Start Superset in the background and wait until it answers."""
    settings = get_settings()
    try:
        pid = start(settings, port or None, host)
    except SupersetError as exc:
        _fail(exc)
    url = public_url(settings, port or None)
    typer.echo(f"Superset is up at {url} (pid {pid}); log in as {ADMIN_USER}.")


@app.command("stop")
def stop_cmd() -> None:
    """Stop the Superset started by `ioc superset start`."""
    was_running = stop(get_settings())
    typer.echo("Superset stopped." if was_running else "Superset was not running.")
