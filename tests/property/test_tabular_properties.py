"""Generated CSV and JSON files, mutated the ways real ones differ, through the tabular formats,
the files kind's column check and the landing contract: the statistics office's feed
(``statistics_feed.chi_tieu``, CSV) and the commune veterinary logbook
(``agri_dt09.vaccination``, JSON).

Every file either lands with exactly the values it was generated with, or is quarantined whole
with the reason its mutation calls for; nothing raises. A truncated file lands every row that
was complete before the cut (the cut row is the contract's to judge), or is refused whole.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.contract import apply_contract
from connectors.formats import UnreadableFile
from connectors.kinds.files import _decode, _NewFile
from connectors.registry import Source, load_registry
from iochub.settings import get_settings
from tests.windows_1258 import encode as _windows_1258

KEY = b"property-test-key"
COMMUNES = {"28261": "Phường Mỹ Tho", "28249": "Phường Đạo Thạnh", "28336": "Xã Hưng Thạnh"}
SETTINGS = settings(
    deadline=None,
    database=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _sources() -> dict[str, Source]:
    return load_registry(get_settings())


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "windows-1258":
        return _windows_1258(text)
    return text.encode(encoding)


def _maybe_nfd(draw: st.DrawFn, text: str) -> str:
    return draw(st.sampled_from([text, unicodedata.normalize("NFD", text)]))


@dataclass
class Outcome:
    """What a generated file must give."""

    expected: list[dict[str, Any]]  # typed rows landing must give, in order
    reason: str | None = None  # the whole-file quarantine reason, None when it lands
    rejected: dict[int, str] = field(default_factory=dict)  # row index → row-level reason
    complete: int | None = None  # truncated: rows whole before the cut
    allowed: tuple[str, ...] = ()  # truncated: reasons a whole-file refusal may give


def _check(source: Source, table: str, item: str, content: bytes, outcome: Outcome) -> None:
    spec = source.table(table)
    assert source.files is not None
    decoded = _decode(_NewFile(item, Path(item), [spec]), "sha", content, source.files, "run")
    if outcome.complete is not None and isinstance(decoded, UnreadableFile):
        assert decoded.reason in outcome.allowed, decoded.detail
        return
    if outcome.reason is not None:
        assert isinstance(decoded, UnreadableFile)
        assert decoded.reason == outcome.reason, decoded.detail
        return
    assert not isinstance(decoded, UnreadableFile), decoded.detail
    batch = decoded.tables[table]
    if batch.num_rows == 0:
        assert not outcome.expected or outcome.complete is not None
        assert not outcome.complete
        return
    result = apply_contract(spec, batch, KEY)
    columns = list(outcome.expected[0]) if outcome.expected else []
    landed = [{c: row.get(c) for c in columns} for row in result.clean.to_pylist()]
    if outcome.complete is not None:
        # Every row whole before the cut lands as generated; the cut row may land or not.
        assert landed[: outcome.complete] == outcome.expected[: outcome.complete]
        assert batch.num_rows <= outcome.complete + 1
        return
    kept = [row for i, row in enumerate(outcome.expected) if i not in outcome.rejected]
    assert landed == kept
    assert sorted(r.reason for r in result.rejected) == sorted(outcome.rejected.values())


# ---- CSV: the statistics office's feed ---------------------------------------------------------

FEED = [
    "ky_bao_cao",
    "cap",
    "ma_tinh",
    "ma_huyen",
    "ma_xa",
    "ten_don_vi",
    "ma_chi_tieu",
    "ten_chi_tieu",
    "tu_so",
    "mau_so",
    "don_vi_tinh",
    "ty_le",
    "ngay_cong_bo",
]
FEED_OPTIONAL = ["ten_don_vi", "ten_chi_tieu", "don_vi_tinh", "ty_le"]
FEED_REQUIRED = ["ky_bao_cao", "cap", "ma_tinh", "ma_chi_tieu", "tu_so", "mau_so", "ngay_cong_bo"]
# Headers as a person would type them; each has the declared name's key.
FEED_VIETNAMESE = {
    "ky_bao_cao": "Kỳ báo cáo",
    "ma_tinh": "Mã tỉnh",
    "ten_don_vi": "Tên đơn vị",
    "tu_so": "Tử số",
    "mau_so": "Mẫu số",
    "don_vi_tinh": "Đơn vị tính",
    "ty_le": "Tỷ lệ",
}
INDICATORS = {
    "XH-01": ("Thuê bao di động sử dụng điện thoại thông minh", "thuê bao"),
    "XH-02": ("Hộ gia đình có kết nối cáp quang", "hộ"),
    "KT-02": ("Doanh thu bán lẻ trực tuyến", "tỷ đồng"),
}


def _count(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


@st.composite
def _feed_row(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, str]]:
    """(typed values landing must give, the text the file carries) of one feed row."""
    level = draw(st.sampled_from(["xa", "huyen", "tinh"]))
    commune = draw(st.sampled_from(sorted(COMMUNES)))
    unit = {"xa": COMMUNES[commune], "huyen": "Thành phố Mỹ Tho", "tinh": "Tỉnh Đồng Tháp"}[level]
    indicator = draw(st.sampled_from(sorted(INDICATORS)))
    den = draw(st.integers(1, 250_000))
    num = draw(st.integers(0, den))
    rate = round(100 * num / den, 2)
    published = draw(st.dates(date(2024, 1, 1), date(2025, 12, 31)))
    typed = {
        "ky_bao_cao": f"{published.year}-{published.month:02d}",
        "cap": level,
        "ma_tinh": "82",
        "ma_huyen": "815" if level == "huyen" else None,
        "ma_xa": commune if level == "xa" else None,
        "ten_don_vi": unit,
        "ma_chi_tieu": indicator,
        "ten_chi_tieu": INDICATORS[indicator][0],
        "tu_so": num,
        "mau_so": den,
        "don_vi_tinh": INDICATORS[indicator][1],
        "ty_le": rate,
        "ngay_cong_bo": published,
    }
    thousands = draw(st.sampled_from(["", ".", ","]))
    text = {
        **{k: "" if v is None else str(v) for k, v in typed.items()},
        "ten_don_vi": _maybe_nfd(draw, unit),
        "tu_so": _count(num, thousands),
        "mau_so": _count(den, thousands),
        "ty_le": draw(st.sampled_from([f"{rate:.2f}", f"{rate:.2f}".replace(".", ",")])),
        "ngay_cong_bo": f"{published:%d/%m/%Y}",
    }
    return typed, text


@st.composite
def _feeds(draw: st.DrawFn) -> tuple[bytes, Outcome]:
    rows = draw(st.lists(_feed_row(), max_size=6))
    mutations = draw(
        st.sets(
            st.sampled_from(
                [
                    "drop_optional",
                    "drop_required",
                    "reorder",
                    "capitals",
                    "vietnamese_headers",
                    "unknown_column",
                    "truncate",
                ]
            ),
            max_size=3,
        )
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "windows-1258"]))
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    columns = list(FEED)
    dropped: set[str] = set()
    if "drop_optional" in mutations:
        dropped.add(draw(st.sampled_from(FEED_OPTIONAL)))
    if "drop_required" in mutations:
        dropped.add(draw(st.sampled_from(FEED_REQUIRED)))
    columns = [c for c in columns if c not in dropped]
    if "unknown_column" in mutations:
        columns.append("ghi_chu")
    if "reorder" in mutations:
        columns = draw(st.permutations(columns))
    headers = []
    for column in columns:
        header = column
        if "vietnamese_headers" in mutations and column in FEED_VIETNAMESE:
            header = _maybe_nfd(draw, FEED_VIETNAMESE[column])
        headers.append(header.upper() if "capitals" in mutations else header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(headers)
    lines = [buffer.getvalue()]
    for _, text in rows:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerow(
            [text.get(c, "ghi chú") for c in columns]
        )
        lines.append(buffer.getvalue())
    content = _encode("".join(lines), encoding)
    expected = [{c: (None if c in dropped else v) for c, v in typed.items()} for typed, _ in rows]
    if "truncate" in mutations:
        cut = draw(st.integers(0, max(0, len(content) - 1)))
        complete = sum(
            1
            for i in range(1, len(lines))
            if len(_encode("".join(lines[: i + 1]), encoding)) <= cut
        )
        allowed = ("undecodable", "malformed_csv", "missing_columns")
        if dropped & set(FEED_REQUIRED):
            complete = 0  # refused whole before or after the cut
        return content[:cut], Outcome(expected, complete=complete, allowed=allowed)
    if dropped & set(FEED_REQUIRED):
        return content, Outcome(expected, reason="missing_columns")
    return content, Outcome(expected)


@SETTINGS
@given(_feeds())
def test_a_feed_file_lands_its_values_or_is_quarantined_whole(feed: tuple[bytes, Outcome]) -> None:
    content, outcome = feed
    _check(_sources()["statistics_feed"], "chi_tieu", "chi-tieu-kinh-te-so.csv", content, outcome)


# ---- JSON: the commune veterinary logbook --------------------------------------------------------

LOG_REQUIRED = ["record_id", "report_date", "province_code", "commune_code"]
LOG_OPTIONAL = ["district_code", "commune_name", "disease", "species", "doses"]
DISEASES = ["Lở mồm long móng", "Dịch tả heo châu Phi", "Dại"]
SPECIES = ["Heo", "Bò", "Gà"]


@st.composite
def _log_record(draw: st.DrawFn, number: int) -> tuple[dict[str, Any], dict[str, Any]]:
    commune = draw(st.sampled_from(sorted(COMMUNES)))
    doses = draw(st.integers(0, 5000))
    reported = draw(st.dates(date(2024, 1, 1), date(2025, 12, 31)))
    district = draw(st.sampled_from([None, "815"]))
    typed = {
        "record_id": f"VX-{number:05d}",
        "report_date": reported,
        "province_code": "82",
        "district_code": district,
        "commune_code": commune,
        "commune_name": COMMUNES[commune],
        "disease": draw(st.sampled_from(DISEASES)),
        "species": draw(st.sampled_from(SPECIES)),
        "doses": doses,
    }
    sent: dict[str, Any] = {
        **typed,
        "report_date": reported.isoformat(),
        "commune_name": _maybe_nfd(draw, COMMUNES[commune]),
        "doses": draw(st.sampled_from([doses, str(doses), _count(doses, ".")])),
    }
    # No district: the key left out, or sent as null.
    if district is None and draw(st.booleans()):
        del sent["district_code"]
    return typed, sent


@st.composite
def _logs(draw: st.DrawFn) -> tuple[bytes, Outcome]:
    size = draw(st.integers(0, 5))
    records = [draw(_log_record(i)) for i in range(size)]
    mutations = draw(
        st.sets(
            st.sampled_from(
                [
                    "drop_optional_everywhere",
                    "drop_required_everywhere",
                    "drop_required_once",
                    "reorder",
                    "capitals",
                    "unknown_key",
                    "other_wrapper",
                    "bare_list",
                    "truncate",
                ]
            ),
            max_size=3,
        )
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "windows-1258"]))
    dropped: set[str] = set()
    if "drop_optional_everywhere" in mutations:
        dropped.add(draw(st.sampled_from(LOG_OPTIONAL)))
    if "drop_required_everywhere" in mutations:
        dropped.add(draw(st.sampled_from(LOG_REQUIRED)))
    rejected: dict[int, str] = {}
    sent_records = []
    for index, (_, sent) in enumerate(records):
        sent = {k: v for k, v in sent.items() if k not in dropped}
        if "unknown_key" in mutations:
            sent["ghi_chu"] = "bổ sung"
        if "drop_required_once" in mutations and index == 0 and len(records) > 1:
            lost = draw(st.sampled_from([k for k in LOG_REQUIRED if k not in dropped]))
            del sent[lost]
            rejected[index] = "missing_required"
        if "reorder" in mutations:
            sent = dict(draw(st.permutations(list(sent.items()))))
        if "capitals" in mutations:
            sent = {k.upper(): v for k, v in sent.items()}
        sent_records.append(sent)
    document: Any = {"system": "SoTheoDoiThuY", "records": sent_records}
    if "other_wrapper" in mutations:
        document = {"system": "SoTheoDoiThuY", "data": sent_records}
    if "bare_list" in mutations:
        document = sent_records
    content = _encode(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding)
    expected = [
        {c: (None if c in dropped else v) for c, v in typed.items()} for typed, _ in records
    ]
    if "truncate" in mutations:
        cut = draw(st.integers(0, max(0, len(content) - 1)))
        if content[:cut].strip() and content[cut:].strip(b"\n\x00"):
            return content[:cut], Outcome(
                expected, complete=0, allowed=("malformed_json", "undecodable", "not_records")
            )
        content = content[:cut] if content[:cut].strip() else content
    if "other_wrapper" in mutations or "bare_list" in mutations:
        return content, Outcome(expected, reason="not_records")
    if dropped & set(LOG_REQUIRED) and records:
        return content, Outcome(expected, reason="missing_columns")
    return content, Outcome(expected, rejected=rejected)


@SETTINGS
@given(_logs())
def test_a_logbook_file_lands_its_values_or_is_quarantined_whole(
    log: tuple[bytes, Outcome],
) -> None:
    content, outcome = log
    _check(_sources()["agri_dt09"], "vaccination", "vaccination_2025-08-05.json", content, outcome)
