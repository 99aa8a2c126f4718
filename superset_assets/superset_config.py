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
