"""A few farm-gate prices of agri_dt03, written by hand for the end-to-end tests.

agri_dt03 is a source published as it lands (``marts.src_agri_dt03__*``, a Superset dataset
each); the session's fixture warehouse lands these rows through the real pipeline, and the
access tests read them back through Superset as the operator and as a commune leader.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Three in Mỹ Tho (28261), two in Cao Lãnh (29869), one in 29944.
MARKET_PRICES = [
    ("MP-1", "2025-09-01", "28261", "Phường Mỹ Tho", "Xoài cát Hòa Lộc", 32000),
    ("MP-2", "2025-09-01", "28261", "Phường Mỹ Tho", "Lúa OM18", 7600),
    ("MP-3", "2025-09-02", "28261", "Phường Mỹ Tho", "Heo hơi", 61000),
    ("MP-4", "2025-09-01", "29869", "Phường Cao Lãnh", "Sen hạt", 90000),
    ("MP-5", "2025-09-02", "29869", "Phường Cao Lãnh", "Cá tra thịt", 29500),
    ("MP-6", "2025-09-02", "29944", "Xã Tháp Mười", "Lúa tươi IR50404", 6800),
]


def seed_market_prices(path: Path) -> str:
    """agri_dt03's database with only the price table's rows above; returns its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "create table market_price (record_id text primary key, report_date text, "
            "province_code text, district_code text, commune_code text, commune_name text, "
            "commodity text, price_vnd_kg integer)"
        )
        db.execute(
            "create table market_bulletin (record_id text primary key, report_date text, "
            "province_code text, district_code text, commune_code text, commune_name text, "
            "bulletin_no text, trend text)"
        )
        db.executemany(
            "insert into market_price values (?, ?, '82', null, ?, ?, ?, ?)", MARKET_PRICES
        )
    db.close()
    return f"sqlite:///{path}"
