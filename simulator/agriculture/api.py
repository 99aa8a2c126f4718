"""JSON HTTP APIs of the API-kind agriculture systems, served from what generate() wrote.

``python -m simulator.agriculture.api --sim-dir DIR --port 18800`` serves:
- ``GET /api`` → the API systems (code, names, owner, tables);
- ``GET /api/<code>`` → that system's tables with their record counts;
- ``GET /api/<code>/<table>?page=1&page_size=100[&since=YYYY-MM-DD]`` → one page of records
  (``report_date`` ≥ ``since``), with ``total``, ``page``, ``page_size`` and ``pages``.
Records come from ``DIR/agriculture/api/<code>/<table>.jsonl``, read at each request (so a new
generation is visible without a restart). Page size is capped at 1000. While
``DIR/agriculture/api/<code>.down`` exists (``ioc sim down``), that system answers 503.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

MAX_PAGE_SIZE = 1000


def down_flag(root: Path, code: str) -> Path:
    """While this file exists the system ``code``'s API answers 503 (``ioc sim down``)."""
    return root / "api" / f"{code}.down"


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _systems(root: Path) -> list[dict[str, object]]:
    registry = root / "systems.json"
    if not registry.exists():
        raise ApiError(503, f"no agriculture systems in {root}: run `ioc sim generate` first")
    data: list[dict[str, object]] = json.loads(registry.read_text(encoding="utf-8"))
    return [s for s in data if s["kind"] == "api"]


def respond(root: Path, path: str, query: dict[str, list[str]]) -> dict[str, object]:
    """The JSON body for a GET of ``path`` (raises ApiError with an HTTP status)."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] != "api" or len(parts) > 3:
        raise ApiError(404, f"unknown path {path}; try /api")
    systems = {str(s["code"]): s for s in _systems(root)}
    if len(parts) == 1:
        return {"systems": list(systems.values())}
    code = parts[1]
    if down_flag(root, code).exists():
        raise ApiError(503, f"system {code} is down for maintenance")
    if code not in systems:
        raise ApiError(404, f"unknown system {code}; known: {sorted(systems)}")
    tables = [str(t) for t in systems[code]["tables"]]  # type: ignore[attr-defined]
    folder = root / "api" / code
    if len(parts) == 2:
        return {
            "system": code,
            "tables": [{"table": t, "records": _count(folder / f"{t}.jsonl")} for t in tables],
        }
    table = parts[2]
    if table not in tables:
        raise ApiError(404, f"system {code} has no table {table}; tables: {tables}")
    try:
        page = int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", ["100"])[0])
    except ValueError as exc:
        raise ApiError(400, f"page and page_size must be integers ({exc})") from exc
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiError(400, f"page ≥ 1 and 1 ≤ page_size ≤ {MAX_PAGE_SIZE}")
    since = query.get("since", [""])[0]
    first, total, items = (page - 1) * size, 0, []
    path_file = folder / f"{table}.jsonl"
    if path_file.exists():
        with path_file.open(encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                if since and str(record["report_date"]) < since:
                    continue
                if first <= total < first + size:
                    items.append(record)
                total += 1
    return {
        "system": code,
        "table": table,
        "page": page,
        "page_size": size,
        "total": total,
        "pages": (total + size - 1) // size,
        "items": items,
    }


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f)


def handler_for(root: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            try:
                status, body = 200, respond(root, url.path, parse_qs(url.query))
            except ApiError as exc:
                status, body = exc.status, {"error": str(exc)}
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the request log would drown the service log."""

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="agriculture systems' JSON APIs")
    parser.add_argument("--sim-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18800)
    args = parser.parse_args(argv)
    root = args.sim_dir / "agriculture"
    server = ThreadingHTTPServer((args.host, args.port), handler_for(root))
    print(f"agriculture api: http://{args.host}:{args.port}/api", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
