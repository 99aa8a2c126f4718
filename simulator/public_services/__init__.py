"""Public services sector: the one-stop-shop dossier system and the QĐ 766 reporting feed.

``generate`` writes the dossier database (MariaDB ``sim_one_stop``, prefix per run, or
``public_services/one_stop.sqlite``), the reporting feed's summary and token
(``public_services/portal766_summary.json``, ``portal766_token.txt``) and the ground truth of
the Decision 766 indicators the dossiers support; ``services`` starts the feed's HTTP API.

Ground-truth rule: a dossier counts in its reception month and in its applicant commune (old
codes resolved to the new commune). Dossiers not received (status 1, 3), the second copy of a
duplicated row, and dossiers quarantined for an unreadable value (negative fee, processing end
before reception, reception in the future) count nowhere — the warehouse cannot use them either.
Dossiers with NFD text, outdated admin codes or late arrival count normally.

Catalogue-level and per-procedure indicators (766-1.1–1.3, 3.1, 3.2, 3.5, 4.5a) are province rows
only: they count procedures of the province's catalogue, which has no commune dimension.

Prefix stability (``ioc sim advance``): a run to a later end only advances the dossiers of an
earlier one. A month's received, channel, fee, attachment, VNeID and sync counts (and the
per-procedure indicators built on them) never change once the month is over, nor do the
publication indicators of a finished month; the outcome indicators of a reception month
(766-2.1, 2.2, 4.1, 4.2, 5.2–5.4) move as its dossiers and petitions are processed later, and
a dossier whose impossible NgayKetThucXuLy is written later leaves its month then (its defect is
logged on that day).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from simulator.context import SimContext
from simulator.frame import REORGANISATION
from simulator.public_services.catalogue import load_catalogue, publications
from simulator.public_services.dossiers import DossierWriter, Written, log_outages
from simulator.public_services.kpi import (
    catalogue_indicators,
    dossier_contributions,
    month_end,
    overdue_at,
    petition_contributions,
    petition_on_time,
    procedure_denominators,
    procedure_marks,
)
from simulator.public_services.store import Store
from simulator.sector import Service

PORTAL_PORT_OFFSET = 66  # 18766 with the default port base
SUMMARY_FILE = "portal766_summary.json"
TOKEN_FILE = "portal766_token.txt"
# Counters per month × new commune that the reporting feed serves (see portal766.py).
SUMMARY_FIELDS = [
    "received",
    "on_time",
    "completed",
    "processing_days",
    "channel_online",
    "channel_direct",
    "channel_postal",
    "fee_dossiers",
    "paid_online",
    "digitised",
    "reused",
    "citizen",
    "vneid",
    "petitions",
    "petitions_on_time",
    "petitions_unsatisfied",
    "petitions_repeated",
    "synced",
    "reported_received",
]
# Per-procedure indicators (procedures whose dossiers of the month mark them).
PROCEDURE_KPIS = ("766-3.2", "766-3.5", "766-4.5a")


PROCEDURE_FIELDS = {"766-3.2": "onlineUsed", "766-3.5": "paidOnline", "766-4.5a": "vneid"}
CATALOGUE_FIELDS = {
    "766-1.1": ("publishedOnTime", "published"),
    "766-1.2": ("publicOnTime", "due"),
    "766-1.3": ("completeContent", "public"),
}


def catalogue_counts(rows: list[tuple[str, str, int, int]], period: str) -> dict[str, int]:
    out = {name: 0 for pair in CATALOGUE_FIELDS.values() for name in pair}
    for kpi, p, num, den in rows:
        if p == period and kpi in CATALOGUE_FIELDS:
            out[CATALOGUE_FIELDS[kpi][0]] = num
            out[CATALOGUE_FIELDS[kpi][1]] = den
    return out


class PublicServices:
    name = "public_services"

    def generate(self, ctx: SimContext) -> dict[str, int]:
        folder = ctx.out / self.name
        folder.mkdir(parents=True, exist_ok=True)
        catalogue = load_catalogue(ctx.seed)
        store = Store(ctx.mysql_url, folder / "one_stop.sqlite", ctx.db_prefix)
        for p in catalogue:
            store.add(
                "DanhMucTTHC",
                (
                    p.code,
                    p.name,
                    p.field_code,
                    p.field_name,
                    p.level,
                    p.online_level,
                    p.limit_days,
                    p.fee,
                    int(p.full_online_eligible),
                    int(p.has_result),
                    int(p.complete_content),
                    p.published.strftime("%Y%m%d"),
                    p.applicant,
                ),
            )
        pubs = publications(ctx.seed, catalogue, ctx.end)
        for x in pubs:
            store.add(
                "QuyetDinhCongBo",
                (x.key, x.code, x.decision_no, f"{x.decided:%Y%m%d}", f"{x.effective:%Y%m%d}"),
            )
        for x in sorted(pubs, key=lambda x: (x.made_public, x.code)):
            if x.made_public <= ctx.end:
                store.add(
                    "CongKhaiTTHC",
                    (x.key, x.code, f"{x.made_public:%Y%m%d}", *(int(c) for c in x.content)),
                )
        log_outages(ctx)
        month_ends = []
        cursor = ctx.start
        while cursor <= ctx.end:
            month_ends.append(min(month_end(cursor), ctx.end))
            cursor = month_end(cursor) + timedelta(days=1)
        truth: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        summary: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(SUMMARY_FIELDS, 0)
        )
        new_of = {c.code: c.new_code for c in ctx.frame.old_communes}
        citizen = {p.code: p.applicant == 1 for p in catalogue}
        marked: dict[str, dict[str, set[str]]] = defaultdict(
            lambda: {kpi: set() for kpi in PROCEDURE_KPIS}
        )

        def sink(w: Written) -> None:
            for _, pf in w.petitions:
                period = f"{pf.received:%Y-%m}"
                for kpi, num, den in petition_contributions(pf):
                    cell = truth[(kpi, period, w.old_commune)]
                    cell[0] += num
                    cell[1] += den
                s = summary[(period, new_of[w.old_commune])]
                s["petitions"] += 1
                s["petitions_on_time"] += int(petition_on_time(pf))
                s["petitions_unsatisfied"] += int(pf.satisfied is False)
                s["petitions_repeated"] += int(pf.repeated)
            d = w.facts
            if d is None:
                return
            period = f"{d.received:%Y-%m}"
            contributions = dossier_contributions(d)
            for kpi, num, den in contributions:
                cell = truth[(kpi, period, w.old_commune)]
                cell[0] += num
                cell[1] += den
            finished = d.end if d.status in (7, 9, 10) else None
            for cut, overdue in overdue_at(d.received, finished, d.due, month_ends):
                cell = truth[("OPS-OVERDUE-DOSSIERS", f"{cut:%Y-%m}", w.old_commune)]
                cell[0] += overdue
                cell[1] += 1
            for kpi in procedure_marks(d, citizen[d.procedure]):
                marked[period][kpi].add(d.procedure)
            # The national reporting system counts every dossier received, by reception month;
            # the portal only those synced to it, filed by the month they arrived, with its
            # own reading of processing time (net of supplement waits, 766-2.2n): the gaps
            # marts.kpi_reconciliation explains.
            summary[(period, new_of[w.old_commune])]["reported_received"] += 1
            if d.synced_on is None:
                return
            s = summary[(f"{d.synced_on:%Y-%m}", new_of[w.old_commune])]
            s["received"] += 1
            s["synced"] += 1
            for kpi, num, den in contributions:
                if kpi == "766-2.1":
                    s["on_time"] += num
                elif kpi == "766-2.2n":
                    s["completed"] += den
                    s["processing_days"] += num
                elif kpi == "766-3.6":
                    s["fee_dossiers"] += den
                    s["paid_online"] += num
                elif kpi == "766-4.2":
                    s["digitised"] += num
                elif kpi == "766-4.3":
                    s["reused"] += num
                elif kpi == "766-4.5b":
                    s["citizen"] += den
                    s["vneid"] += num
            s[{1: "channel_direct", 2: "channel_online", 3: "channel_postal"}[d.channel]] += 1

        writer = DossierWriter(ctx, store, catalogue)
        for day in ctx.days():
            writer.day(day, sink)
        counts = store.close()

        old = {c.code: c for c in ctx.frame.old_communes}
        for (kpi, period, old_code), (num, den) in sorted(truth.items()):
            commune = old[old_code]
            ctx.truth.add(kpi, period, "commune", commune.new_code, "2025", num, den)
            if period < f"{REORGANISATION:%Y-%m}":
                ctx.truth.add(kpi, period, "district", commune.district_code, "legacy", num, den)
            ctx.truth.add(kpi, period, "province", "82", "2025", num, den)
        # Catalogue-level and per-procedure indicators: province-wide only (the catalogue is the
        # province's; a procedure's share has no commune dimension).
        catalogue_rows = catalogue_indicators(catalogue, pubs, month_ends)
        for kpi, period, num, den in catalogue_rows:
            ctx.truth.add(kpi, period, "province", "82", "2025", num, den)
        denominators = procedure_denominators(catalogue)
        for cut in month_ends:
            period = f"{cut:%Y-%m}"
            for kpi in PROCEDURE_KPIS:
                codes = marked[period][kpi] & denominators[kpi]
                ctx.truth.add(
                    kpi, period, "province", "82", "2025", len(codes), len(denominators[kpi])
                )

        names = {c.code: c.name for c in ctx.frame.new_communes}
        document = {
            "province": {"id": "82", "name": "Tỉnh Đồng Tháp"},
            "units": [{"id": code, "name": names[code]} for code in sorted(names)],
            "formalities": [
                {
                    "code": p.code,
                    "name": p.name,
                    "fieldCode": p.field_code,
                    "fieldName": p.field_name,
                    "level": p.level,
                    "onlineLevel": p.online_level,
                    "limitDays": p.limit_days,
                    "fee": p.fee,
                    "completeContent": p.complete_content,
                    "fullOnlineEligible": p.full_online_eligible,
                    "applicant": p.applicant,
                }
                for p in catalogue
            ],
            # Publication and publicity counts per month (766-1.1 to 1.3, province-wide).
            "catalogueMonthly": [
                {"period": f"{cut:%Y-%m}", **catalogue_counts(catalogue_rows, f"{cut:%Y-%m}")}
                for cut in month_ends
            ],
            # Procedures whose dossiers of the month mark them (766-3.2, 3.5, 4.5a).
            "procedureMonthly": [
                {
                    "period": f"{cut:%Y-%m}",
                    **{
                        name: sorted(marked[f"{cut:%Y-%m}"][kpi] & denominators[kpi])
                        for kpi, name in PROCEDURE_FIELDS.items()
                    },
                }
                for cut in month_ends
            ],
            "monthly": [
                {"period": period, "unit": unit, **counters}
                for (period, unit), counters in sorted(summary.items())
            ],
        }
        (folder / SUMMARY_FILE).write_text(
            json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        # The demo's credential for the feed (not a secret): derived from the seed so reruns match.
        token = hashlib.sha256(f"iochub-demo-portal766-{ctx.seed}".encode()).hexdigest()
        (folder / TOKEN_FILE).write_text(token + "\n", encoding="utf-8")
        counts["portal766_summary_rows"] = len(document["monthly"])
        return counts

    def services(self, sim_dir: Path, port_base: int) -> list[Service]:
        return [
            Service(
                name="portal766-api",
                argv=[
                    sys.executable,
                    "-m",
                    "simulator.public_services.portal766",
                    "--sim-dir",
                    str(sim_dir),
                    "--port",
                    str(port_base + PORTAL_PORT_OFFSET),
                ],
                port=port_base + PORTAL_PORT_OFFSET,
                description="QĐ 766 reporting feed of the national public-service portal (HTTP)",
            )
        ]


SECTOR = PublicServices()
