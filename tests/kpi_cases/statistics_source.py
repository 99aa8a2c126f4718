"""The hand-written statistics cases as the statistics office's monthly feed files.

``statistics/feed.yaml`` holds, per case and per file, its rows as the file's own lines; this
module fills in the indicator's name and unit and the file's publication date and writes each
file as the office publishes it (``chi-tieu-kinh-te-so-<yyyy-mm>.csv``: UTF-8 with a BOM, ``;``,
CRLF, the header of ``simulator.statistics``) into the folder the ``statistics_feed`` connector
reads. Only the header is the simulator's; every value is the case's. A file of the ``later``
stage is new before the second landing (the feed never rewrites a published file: it
re-publishes a month's figures in a later month's file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simulator.statistics import HEADER
from tests.kpi_cases.case_source import CaseSource

STATISTICS_DIR = Path(__file__).parent / "statistics"
FEED = STATISTICS_DIR / "feed.yaml"
COLUMNS = HEADER.split(";")
# The columns a case writes, in the file's order; the other three come from the maps.
_FILLED = ("ten_chi_tieu", "don_vi_tinh", "ngay_cong_bo")
CASE_COLUMNS = [column for column in COLUMNS if column not in _FILLED]


def load_statistics_cases(path: Path = FEED) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def file_lines(cases: dict[str, Any], month: str) -> list[str]:
    """The lines of one month's file (header first): every case's rows published in it."""
    published = cases["files"][month]["published"]
    lines = [HEADER]
    for name, files in cases["cases"].items():
        for row in files.get(month, []):
            fields = row.split(";")
            if len(fields) != len(CASE_COLUMNS):
                raise ValueError(f"{name} {month}: {row!r} is not {';'.join(CASE_COLUMNS)}")
            record = dict(zip(CASE_COLUMNS, fields, strict=True))
            indicator = cases["indicators"][record["ma_chi_tieu"]]
            record["ten_chi_tieu"], record["don_vi_tinh"] = indicator["name"], indicator["unit"]
            record["ngay_cong_bo"] = published
            lines.append(";".join(record[column] for column in COLUMNS))
    return lines


def write_feed(folder: Path, cases: dict[str, Any], stage: str) -> int:
    """Drop the files of one stage (``first`` or ``later``) into the folder; files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for month, file in cases["files"].items():
        if file.get("stage", "first") != stage:
            continue
        text = "\ufeff" + "\r\n".join(file_lines(cases, month)) + "\r\n"
        (folder / f"chi-tieu-kinh-te-so-{month}.csv").write_bytes(text.encode("utf-8"))
        written += 1
    return written


CASE_SOURCE = CaseSource(
    folder="statistics_feed",
    env=lambda folder: {"IOC_STATISTICS_FEED_DIR": str(folder)},
    write=lambda folder, stage: write_feed(folder, load_statistics_cases(), stage),
    sources=("statistics_feed",),
)
