"""The national public-service portal's Decision 766 reporting feed, served over HTTP.

``python -m simulator.public_services.portal766 --sim-dir DIR --port 18766`` serves the numbers
``generate`` summarised from the dossiers (``public_services/portal766_summary.json``) the way the
national portal does: POST (JSON body ``timeType`` year|quarter|month, ``year``,
``quarter``|``month``, ``rootDepartmentId``) to ``/api/v1/reporting/evaluation/transparency``,
``/handling-satisfaction``, ``/dossier-digitized``, ``/dvc-progress-tree``,
``/provide-online-tree``, ``/formality-online-payment-tree`` (each also under
``/api/v1/reporting/evaluation/``); GET or POST
``/api/v1/reporting/formalities`` for the catalogue. Tree endpoints answer the root unit (the
province ``82`` or a commune code) with its communes as ``children``, paginated (``page`` from
1, ``size``). A bearer token (``portal766_token.txt``, the demo's credential) is required; more
than ``--rate-limit`` requests in one second get 429 with ``Retry-After``; a deterministic
``--error-rate`` share of requests (by request number, seeded) fail with 503, as the real portal
does now and then.

Outage: while ``<sim-dir>/public_services/portal766.down`` exists, every request gets 503 with a
JSON error body (``touch`` the file to take the feed down, remove it to bring it back).

Catalogue-level and per-procedure indicators (766-1.1–1.3, 3.1, 3.2, 3.5, 4.5a) are province-wide:
the root province node of ``/transparency`` (every node: the catalogue is the province's),
``/provide-online-tree``, ``/formality-online-payment-tree`` and ``/dossier-digitized`` carries
them; 766-1.4 (``totalSynced``) is in ``/dvc-progress-tree`` at every level.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from simulator.rng import stream

PREFIX = "/api/v1/reporting"
DOWN_FLAG = "portal766.down"  # in <sim-dir>/public_services: while it exists, every answer is 503
TREE_ENDPOINTS = {
    "/transparency",
    "/handling-satisfaction",
    "/dossier-digitized",
    "/dvc-progress-tree",
    "/provide-online-tree",
    "/formality-online-payment-tree",
}


def score(value: float, points: float, threshold: float | None) -> float:
    """kpis.md scoring: full points at or above the threshold, else value × max / threshold."""
    if threshold is None:
        return round(value * points, 4)
    return round(points if value >= threshold else value * points / threshold, 4)


def ratio(num: int, den: int) -> float:
    return round(100.0 * num / den, 2) if den else 0.0


def indicator(endpoint: str, c: dict[str, int], catalogue: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields of one endpoint for one unit's summed counters ``c``."""
    if endpoint == "/dvc-progress-tree":
        value = c["on_time"] / c["received"] if c["received"] else 0.0
        return {
            "totalReceived": c["received"],
            "totalOnTime": c["on_time"],
            "totalOverdue": c["received"] - c["on_time"],
            "totalCompleted": c["completed"],
            "totalSynced": c.get("synced", 0),
            # The province's own count through the national reporting system (by reception
            # month): 766-1.4's denominator is the larger of it and totalReceived.
            "totalReportedReceived": c.get("reported_received", 0),
            "avgProcessingDays": (
                round(c["processing_days"] / c["completed"], 2) if c["completed"] else 0.0
            ),
            "ratio": ratio(c["on_time"], c["received"]),
            "score": score(value, 20, 1.0),
            "maxScore": 20,
        }
    if endpoint == "/provide-online-tree":
        value = c["channel_online"] / c["received"] if c["received"] else 0.0
        return {
            "totalReceived": c["received"],
            "onlineDossierCount": c["channel_online"],
            "channelOnlineSum": c["channel_online"],
            "channelDirectSum": c["channel_direct"],
            "channelPostalSum": c["channel_postal"],
            "ratio": ratio(c["channel_online"], c["received"]),
            "score": score(value, 12, 0.5),
            "maxScore": 12,
        }
    if endpoint == "/formality-online-payment-tree":
        value = c["paid_online"] / c["fee_dossiers"] if c["fee_dossiers"] else 0.0
        return {
            "totalReceived": c["fee_dossiers"],
            "totalDossierOnlinePaymentSuccess": c["paid_online"],
            "ratio": ratio(c["paid_online"], c["fee_dossiers"]),
            "score": score(value, 6, None),
            "maxScore": 6,
        }
    if endpoint == "/dossier-digitized":
        value = c["digitised"] / c["received"] if c["received"] else 0.0
        return {
            "totalReceived": c["received"],
            "totalDigitized": c["digitised"],
            "totalReused": c["reused"],
            "ratio": ratio(c["digitised"], c["received"]),
            "score": score(value, 4, 0.8),
            "maxScore": 4,
        }
    if endpoint == "/handling-satisfaction":
        good = (
            c["petitions"]
            - c["petitions_unsatisfied"]
            - (c["petitions"] - c["petitions_on_time"])
            - c["petitions_repeated"]
        )
        value = good / c["petitions"] if c["petitions"] else 0.0
        return {
            "totalReceived": c["petitions"],
            "totalOnTime": c["petitions_on_time"],
            "totalOverdue": c["petitions"] - c["petitions_on_time"],
            "totalUnsatisfied": c["petitions_unsatisfied"],
            "totalRepeated": c["petitions_repeated"],
            "ratio": ratio(good, c["petitions"]),
            "score": score(value, 6, None),
            "maxScore": 6,
        }
    # /transparency (766-1.1–1.3): the catalogue is provincial, the same for every unit.
    return {"totalFormalities": len(catalogue), "maxScore": 12}


def catalogue_fields(
    endpoint: str,
    catalogue: list[dict[str, Any]],
    publicity: dict[str, int],
    marked: dict[str, set[str]],
) -> dict[str, Any]:
    """Province-wide fields of the catalogue-level indicators an endpoint carries."""
    if endpoint == "/transparency":
        return {
            "totalPublished": publicity["published"],
            "totalPublishedOnTime": publicity["publishedOnTime"],
            "totalPublicDue": publicity["due"],
            "totalPublicOnTime": publicity["publicOnTime"],
            "totalPublic": publicity["public"],
            "totalCompleteContent": publicity["completeContent"],
            "ratio": ratio(publicity["completeContent"], publicity["public"]),
            # 1.1 (6 points), 1.2 (4) and 1.3 (2), each full at 100%.
            "score": round(
                sum(
                    score(num / den if den else 0.0, points, 1.0)
                    for num, den, points in (
                        (publicity["publishedOnTime"], publicity["published"], 6),
                        (publicity["publicOnTime"], publicity["due"], 4),
                        (publicity["completeContent"], publicity["public"], 2),
                    )
                ),
                4,
            ),
        }
    if endpoint == "/provide-online-tree":
        online = [f for f in catalogue if f["onlineLevel"] >= 3]
        return {
            "totalFormalities": len(catalogue),
            "totalOnlineFormalities": len(online),
            "totalFullOnlineFormalities": sum(1 for f in catalogue if f["onlineLevel"] == 4),
            "totalFullOnlineEligible": sum(1 for f in catalogue if f["fullOnlineEligible"]),
            "totalOnlineFormalitiesUsed": len(marked["onlineUsed"]),
        }
    if endpoint == "/formality-online-payment-tree":
        return {
            "totalFeeFormalities": sum(1 for f in catalogue if f["fee"] > 0),
            "totalFeeFormalitiesPaidOnline": len(marked["paidOnline"]),
        }
    if endpoint == "/dossier-digitized":
        return {
            "totalCitizenFormalities": sum(1 for f in catalogue if f["applicant"] == 1),
            "totalCitizenFormalitiesVNeID": len(marked["vneid"]),
        }
    return {}


def periods(body: dict[str, Any]) -> set[str]:
    """The months ('yyyy-mm') a request's timeType/year/quarter/month select."""
    kind = body.get("timeType")
    year = int(body["year"])
    if kind == "year":
        months = range(1, 13)
    elif kind == "quarter":
        quarter = int(body["quarter"])
        if not 1 <= quarter <= 4:
            raise ValueError("quarter must be 1–4")
        months = range(3 * quarter - 2, 3 * quarter + 1)
    elif kind == "month":
        month = int(body["month"])
        if not 1 <= month <= 12:
            raise ValueError("month must be 1–12")
        months = range(month, month + 1)
    else:
        raise ValueError("timeType must be year, quarter or month")
    return {f"{year}-{m:02d}" for m in months}


class Portal:
    """The feed's state: the summary, the token, the rate limiter and the error sequence."""

    def __init__(self, sim_dir: Path, rate_limit: int, error_rate: float, seed: int) -> None:
        folder = sim_dir / "public_services"
        doc = json.loads((folder / "portal766_summary.json").read_text(encoding="utf-8"))
        self.token = (folder / "portal766_token.txt").read_text(encoding="utf-8").strip()
        self.province: dict[str, str] = doc["province"]
        self.units: dict[str, str] = {u["id"]: u["name"] for u in doc["units"]}
        self.formalities: list[dict[str, Any]] = doc["formalities"]
        self.monthly: list[dict[str, Any]] = doc["monthly"]
        self.catalogue_monthly: list[dict[str, Any]] = doc.get("catalogueMonthly", [])
        self.procedure_monthly: list[dict[str, Any]] = doc.get("procedureMonthly", [])
        self.down_flag = folder / DOWN_FLAG
        self.rate_limit = rate_limit
        self.error_rate = error_rate
        self.errors = stream(seed, "portal766", "errors")
        self.lock = threading.Lock()
        self.recent: deque[float] = deque()

    def admit(self) -> str:
        """'ok', 'limited' (over the rate limit) or 'error' (the seeded 5xx sequence)."""
        with self.lock:
            now = time.monotonic()
            while self.recent and now - self.recent[0] >= 1.0:
                self.recent.popleft()
            if len(self.recent) >= self.rate_limit:
                return "limited"
            self.recent.append(now)
            return "error" if self.errors.random() < self.error_rate else "ok"

    def publicity(self, months: set[str]) -> dict[str, int]:
        """766-1.1/1.2 counts summed over the months; 1.3 (a stock) at the last month present."""
        out = dict.fromkeys(
            ("published", "publishedOnTime", "due", "publicOnTime", "public", "completeContent"), 0
        )
        rows = sorted(
            (r for r in self.catalogue_monthly if r["period"] in months), key=lambda r: r["period"]
        )
        for r in rows:
            for name in ("published", "publishedOnTime", "due", "publicOnTime"):
                out[name] += int(r[name])
        if rows:
            out["public"], out["completeContent"] = rows[-1]["public"], rows[-1]["completeContent"]
        return out

    def marked(self, months: set[str]) -> dict[str, set[str]]:
        """Procedures marked by a dossier in any of the months (766-3.2, 3.5, 4.5a)."""
        out: dict[str, set[str]] = {"onlineUsed": set(), "paidOnline": set(), "vneid": set()}
        for r in self.procedure_monthly:
            if r["period"] in months:
                for name, codes in out.items():
                    codes.update(r[name])
        return out

    def counters(self, months: set[str], unit: str | None) -> dict[str, int]:
        total: dict[str, int] = {}
        for row in self.monthly:
            if row["period"] in months and (unit is None or row["unit"] == unit):
                for name, value in row.items():
                    if name not in ("period", "unit"):
                        total[name] = total.get(name, 0) + int(value)
        return total

    def tree(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        months = periods(body)
        root = str(body.get("rootDepartmentId", self.province["id"]))
        page, size = int(body.get("page", 1)), int(body.get("size", 50))
        if page < 1 or not 1 <= size <= 500:
            raise ValueError("page must be ≥ 1 and size 1–500")
        zero = dict.fromkeys(
            (k for k in (self.monthly[0] if self.monthly else {}) if k not in ("period", "unit")),
            0,
        )

        def node(unit: str | None, name: str, ident: str) -> dict[str, Any]:
            c = {**zero, **self.counters(months, unit)}
            return {"id": ident, "name": name, **indicator(endpoint, c, self.formalities)}

        catalogue_level = catalogue_fields(
            endpoint, self.formalities, self.publicity(months), self.marked(months)
        )
        if root == self.province["id"]:
            out = node(None, self.province["name"], root)
            out.update(catalogue_level)
            children = sorted(self.units)
        elif root in self.units:
            out = node(root, self.units[root], root)
            children = []
        else:
            raise KeyError(f"unknown rootDepartmentId {root!r}")
        if endpoint == "/transparency":  # the same provincial catalogue for every unit
            out.update(catalogue_level)
        chunk = children[(page - 1) * size : page * size]
        out["children"] = [node(u, self.units[u], u) for u in chunk]
        if endpoint == "/transparency":
            for child in out["children"]:
                child.update(catalogue_level)
        out["page"], out["size"], out["totalChildren"] = page, size, len(children)
        return out

    def catalogue(self, query: dict[str, Any]) -> dict[str, Any]:
        page, size = int(query.get("page", 1)), int(query.get("size", 20))
        if page < 1 or not 1 <= size <= 500:
            raise ValueError("page must be ≥ 1 and size 1–500")
        items = self.formalities[(page - 1) * size : page * size]
        return {"page": page, "size": size, "total": len(self.formalities), "content": items}


def handler_for(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the caller's logs are the record

        def _send(
            self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, body: dict[str, Any]) -> None:
            if portal.down_flag.exists():
                self._send(
                    503,
                    {"status": "error", "message": "reporting service is down for maintenance"},
                    {"Retry-After": "60"},
                )
                return
            if self.headers.get("Authorization", "") != f"Bearer {portal.token}":
                self._send(401, {"status": "error", "message": "invalid or missing bearer token"})
                return
            admitted = portal.admit()
            if admitted == "limited":
                self._send(
                    429, {"status": "error", "message": "too many requests"}, {"Retry-After": "1"}
                )
                return
            if admitted == "error":
                self._send(503, {"status": "error", "message": "service temporarily unavailable"})
                return
            path = self.path.split("?", 1)[0]
            if not path.startswith(PREFIX):
                self._send(404, {"status": "error", "message": f"no endpoint {path}"})
                return
            endpoint = path[len(PREFIX) :]
            # The published paths mix ``/reporting/evaluation/x`` and ``/reporting/x``: accept both.
            endpoint = endpoint.removeprefix("/evaluation")
            try:
                if endpoint == "/formalities":
                    self._send(200, {"status": "success", "data": portal.catalogue(body)})
                elif endpoint in TREE_ENDPOINTS and self.command == "POST":
                    self._send(200, {"status": "success", "data": portal.tree(endpoint, body)})
                else:
                    self._send(404, {"status": "error", "message": f"no endpoint {path}"})
            except KeyError as exc:
                self._send(404, {"status": "error", "message": str(exc)})
            except (ValueError, TypeError) as exc:
                self._send(400, {"status": "error", "message": f"bad request: {exc}"})

        def do_GET(self) -> None:
            query: dict[str, Any] = {}
            if "?" in self.path:
                for part in self.path.split("?", 1)[1].split("&"):
                    name, _, value = part.partition("=")
                    query[name] = value
            self._handle(query)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._send(400, {"status": "error", "message": "body is not JSON"})
                return
            if not isinstance(body, dict):
                self._send(400, {"status": "error", "message": "body must be a JSON object"})
                return
            self._handle(body)

    return Handler


def make_server(
    sim_dir: Path, port: int, rate_limit: int = 20, error_rate: float = 0.02, seed: int = 766
) -> ThreadingHTTPServer:
    portal = Portal(sim_dir, rate_limit, error_rate, seed)
    return ThreadingHTTPServer(("127.0.0.1", port), handler_for(portal))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sim-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=18766)
    parser.add_argument("--rate-limit", type=int, default=20, help="requests per second")
    parser.add_argument("--error-rate", type=float, default=0.02, help="share of 503 answers")
    parser.add_argument("--seed", type=int, default=766, help="seed of the 503 sequence")
    args = parser.parse_args()
    server = make_server(args.sim_dir, args.port, args.rate_limit, args.error_rate, args.seed)
    server.serve_forever()


if __name__ == "__main__":
    main()
