"""Superset configuration of the iochub wall (Superset 6.1, offline).

Loaded by Superset through ``SUPERSET_CONFIG_PATH``; ``iochub.superset`` sets every variable read
here, so this file never needs editing per machine:

- ``SUPERSET_SECRET_KEY`` (required): signs sessions and encrypts stored connection secrets.
- ``SUPERSET_HOME``: directory of the SQLite metadata database (the laptop default).
- ``IOC_SUPERSET_DB_URL``: SQLAlchemy URL of a PostgreSQL metadata database; overrides SQLite.
- ``IOC_SUPERSET_PUBLIC_URL``: the address browsers use to reach Superset (default
  ``http://localhost:8088``); the offline base-map tiles are served from it.

Nothing here reaches the internet: the telemetry pixel and every external map or font host are
left out of the content-security policy, the deck.gl base map is a plain light tile generated in
memory by the ``ioc_tiles`` blueprint below, and no Mapbox token is set.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from functools import lru_cache

from flask import Blueprint, Response

# --- secrets and metadata database --------------------------------------------------------------
SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY", "")
if not SECRET_KEY:
    raise RuntimeError(
        "SUPERSET_SECRET_KEY is not set. Start Superset through `ioc superset start` "
        "(or export SUPERSET_SECRET_KEY) instead of calling superset directly."
    )

_SUPERSET_HOME = os.environ.get("SUPERSET_HOME") or os.path.join(os.getcwd(), "superset_home")
DATA_DIR = _SUPERSET_HOME
SQLALCHEMY_DATABASE_URI = os.environ.get("IOC_SUPERSET_DB_URL") or (
    f"sqlite:///{os.path.join(_SUPERSET_HOME, 'superset.db')}?check_same_thread=false"
)
SQLALCHEMY_TRACK_MODIFICATIONS = False

PUBLIC_URL = os.environ.get("IOC_SUPERSET_PUBLIC_URL", "http://localhost:8088").rstrip("/")

# --- features ----------------------------------------------------------------------------------
FEATURE_FLAGS: dict[str, bool] = {
    # Row-level security also applies in SQL Lab (area roles must not see other areas there).
    "RLS_IN_SQLLAB": True,
    "DASHBOARD_RBAC": True,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
}
MAPBOX_API_KEY = ""
# Numbers the Vietnamese way in every chart (1.234.567,8; 95,3%): D3's locale, applied by
# Superset to all d3 number formats.
D3_FORMAT = {
    "decimal": ",",
    "thousands": ".",
    "grouping": [3],
    "currency": ["", " ₫"],
}
D3_TIME_FORMAT = {
    "dateTime": "%A, %e tháng %m, %Y %X",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["SA", "CH"],
    "days": ["Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"],
    "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
    "months": [f"Tháng {m}" for m in range(1, 13)],
    "shortMonths": [f"Th{m}" for m in range(1, 13)],
}
ROW_LIMIT = 50_000
SUPERSET_WEBSERVER_TIMEOUT = int(timedelta(minutes=2).total_seconds())

# --- caching: the wall shows a freshly published warehouse within a minute -----------------
CACHE_DEFAULT_TIMEOUT = 60
CACHE_CONFIG = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": 300,
    "CACHE_KEY_PREFIX": "ioc_meta_",
}
DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": 60,
    "CACHE_KEY_PREFIX": "ioc_data_",
}

# --- offline base map ---------------------------------------------------------------------------
TILE_SIZE = 256
TILE_RGB = (242, 241, 236)  # light paper colour
TILE_EDGE_RGB = (230, 229, 222)  # faint grid line on the tile's right and bottom edge


@lru_cache(maxsize=1)
def _light_tile_png() -> bytes:
    """A 256×256 light PNG with a faint grid edge, drawn in memory (no file, no download)."""
    from PIL import Image, ImageDraw  # Pillow is a Superset dependency

    tile = Image.new("RGB", (TILE_SIZE, TILE_SIZE), TILE_RGB)
    draw = ImageDraw.Draw(tile)
    last = TILE_SIZE - 1
    draw.line([(last, 0), (last, last), (0, last)], fill=TILE_EDGE_RGB)
    buffer = io.BytesIO()
    tile.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


ioc_tiles = Blueprint("ioc_tiles", __name__)


@ioc_tiles.route("/ioc-tiles/<int:z>/<int:x>/<int:y>.png")
def _tile(z: int, x: int, y: int) -> Response:
    response = Response(_light_tile_png(), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


BLUEPRINTS = [ioc_tiles]

TILE_URL = f"{PUBLIC_URL}/ioc-tiles/{{z}}/{{x}}/{{y}}.png"
# The only base map offered in the chart editor; the bundle's map charts use the same value.
DECKGL_BASE_MAP = [[f"tile://{TILE_URL}", "Nền sáng ngoại tuyến (Offline light)"]]

# --- content-security policy: self only (blocks the telemetry pixel and external map hosts) -----
_SELF_ORIGINS = ["'self'", PUBLIC_URL]
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": [*_SELF_ORIGINS, "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": _SELF_ORIGINS,
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []

# --- access: what SQL may reach the warehouse (roles and row-level rules: access.yaml) ----------
# Superset grants SQL Lab and chart SQL table by table, finding the tables with sqlglot, and adds
# the row-level rules to the tables it finds. Measured on 6.1 with DuckDB: sqlglot finds no table
# in `SUMMARIZE t` or a `PIVOT t ...` statement (also as a subquery or in a chart's custom SQL),
# so those read any table, every row; `COPY … TO` writes and ATTACH/read_parquet read any file
# the server can reach; statements sqlglot cannot parse arrive as opaque commands.


def DB_CONNECTION_MUTATOR(uri, params, username, security_manager, source):  # noqa: N802
    """DuckDB without the file system: the wall reads serving.duckdb and nothing else (and SQL
    cannot turn it back on)."""
    if uri.get_backend_name() == "duckdb":
        uri = uri.update_query_dict({"enable_external_access": "false"})
    return uri, params


def SQL_QUERY_MUTATOR(sql, security_manager=None, database=None, **kwargs):  # noqa: N802
    """Refuse, for everyone but admins, DuckDB SQL whose tables Superset cannot see: only
    queries (SELECT, set operations), without SUMMARIZE, PIVOT statements or opaque commands."""
    from flask import g

    if database is None or database.backend != "duckdb":
        return sql
    if getattr(g, "user", None) is None or security_manager.is_admin():
        return sql  # Superset's own work (imports, metadata) and admins
    import sqlglot
    from sqlglot import exp
    from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
    from superset.exceptions import SupersetSecurityException

    def hidden(node):
        if isinstance(node, exp.Pivot):  # `FROM t PIVOT (…)` is seen; a PIVOT statement is not
            return not isinstance(node.parent, exp.Table)
        return isinstance(node, exp.Summarize | exp.Command)

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError:
        statements = [exp.Command(this=sql)]
    if not all(isinstance(s, exp.Query) and not any(map(hidden, s.walk())) for s in statements):
        raise SupersetSecurityException(
            SupersetError(
                error_type=SupersetErrorType.QUERY_SECURITY_ACCESS_ERROR,
                message="Chỉ được chạy câu SELECT (only SELECT queries are allowed here).",
                level=ErrorLevel.ERROR,
            )
        )
    return sql
