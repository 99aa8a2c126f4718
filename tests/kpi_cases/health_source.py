"""The hand-written health cases as the hospitals' XML 130 claim files.

``health/claims.yaml`` holds, per file, its header (facility, NGAYLAP) and the XML1 (TONG_HOP)
fields that matter to each episode, in the source's own text; this module writes each file in
the layout the conformance corpus documents (tests/conformance/xml130/, ``GIAMDINHHS`` wrapper,
one ``HOSO`` per episode, each table's document base64-encoded in ``NOIDUNGFILE``) into the
inbox the ``health_xml130`` connector reads. The fields a case does not give take the defaults
of the claims file (one outpatient visit, the conformance corpus's patient), so every file
carries the whole XML1 field set a facility's system sends. A file's ``defect`` breaks it the
way a failed transfer does: ``invalid_base64`` (a character outside the alphabet in its last
payload) or ``truncated`` (cut off in its last payload). A facility's ``daily`` export is
written out as one file a day, each carrying that day's one outpatient visit.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from tests.kpi_cases.case_source import CaseSource
from tests.property.xml130_files import XML1_FIELDS, XML2_FIELDS

HEALTH_DIR = Path(__file__).parent / "health"
CLAIMS = HEALTH_DIR / "claims.yaml"

# Bảng check-in (XML0, CHI_TIEU_TRANG_THAI_KCB): sent when the patient arrives; no table of
# the source declares it, so it is only base64-checked.
_XML0_TAGS = ["MA_LK", "STT", "NGAY_VAO", "NGAY_VAO_NOI_TRU", "MA_LOAI_KCB", "MA_CSKCB"]


def load_health_cases(path: Path = CLAIMS) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _document(path: tuple[str, ...], tags: list[str], values: dict[str, Any]) -> str:
    """A table's document: the record's fields nested in ``path`` (root first); a field
    without a value is sent as an empty element, as the facilities' systems do."""
    body = "".join(
        f"<{tag}>{escape(str(values[tag]))}</{tag}>" if values.get(tag) is not None else f"<{tag}/>"
        for tag in tags
    )
    for element in reversed(path):
        body = f"<{element}>{body}</{element}>"
    return f'<?xml version="1.0" encoding="utf-8"?>{body}'


def _lines_document(
    path: tuple[str, str, str], tags: list[str], lines: list[dict[str, Any]]
) -> str:
    """A table of line items (XML2): one ``path[2]`` element per line in ``path[1]``."""
    items = "".join(
        _document((path[2],), tags, line).removeprefix('<?xml version="1.0" encoding="utf-8"?>')
        for line in lines
    )
    root, listing, _ = path
    return f'<?xml version="1.0" encoding="utf-8"?><{root}><{listing}>{items}</{listing}></{root}>'


def _payload(document: str) -> str:
    return base64.b64encode(document.encode("utf-8")).decode("ascii")


def _episode_fields(
    defaults: dict[str, Any], file: dict[str, Any], episode: dict[str, Any]
) -> dict[str, Any]:
    values = {**defaults, "MA_CSKCB": file["facility"], **episode}
    # Settled when discharged, in the month of discharge (NGAY_TTOAN, NAM_QT, THANG_QT).
    discharged = str(values.get("NGAY_RA") or values["NGAY_VAO"])
    values.setdefault("NGAY_TTOAN", discharged)
    values.setdefault("NAM_QT", discharged[:4])
    values.setdefault("THANG_QT", str(int(discharged[4:6])))
    values.setdefault("MA_HSBA", f"HS{values['MA_LK'][2:]}")
    return values


def file_text(cases: dict[str, Any], file: dict[str, Any]) -> str:
    """One wrapper: a HOSO per episode (XML1, and XML2 when it has ``drug_lines``: each line's
    fields, MA_LK and STT given) and per check-in without a claim yet (XML0)."""
    hosos: list[list[tuple[str, str]]] = []
    for episode in file.get("episodes", []):
        fields = {k: v for k, v in episode.items() if k != "drug_lines"}
        values = _episode_fields(cases["defaults"], file, fields)
        tables = [("XML1", _payload(_document(("TONG_HOP",), XML1_FIELDS, values)))]
        if episode.get("drug_lines"):
            lines = [
                {"MA_LK": values["MA_LK"], "STT": number, **line}
                for number, line in enumerate(episode["drug_lines"], start=1)
            ]
            path = ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC")
            tables.append(("XML2", _payload(_lines_document(path, XML2_FIELDS, lines))))
        hosos.append(tables)
    for check_in in file.get("check_ins", []):
        values = {"STT": 1, "MA_CSKCB": file["facility"], **check_in}
        path = ("CHI_TIEU_TRANG_THAI_KCB", "DSACH_TRANG_THAI_KCB", "TRANG_THAI_KCB")
        hosos.append([("XML0", _payload(_document(path, _XML0_TAGS, values)))])
    defect = file.get("defect")
    if defect == "invalid_base64":
        kind, payload = hosos[-1][-1]
        hosos[-1][-1] = (kind, payload[:40] + "@" + payload[40:])
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS>',
        f"<THONGTINDONVI><MACSKCB>{file['facility']}</MACSKCB></THONGTINDONVI>",
        f"<THONGTINHOSO><NGAYLAP>{file['created']}</NGAYLAP>",
        f"<SOLUONGHOSO>{len(hosos)}</SOLUONGHOSO><DANHSACHHOSO>",
    ]
    parts += [
        "<HOSO>"
        + "".join(
            f"<FILEHOSO><LOAIHOSO>{kind}</LOAIHOSO><NOIDUNGFILE>{payload}</NOIDUNGFILE></FILEHOSO>"
            for kind, payload in tables
        )
        + "</HOSO>"
        for tables in hosos
    ]
    parts.append("</DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>\n")
    text = "\n".join(parts)
    if defect == "truncated":
        # The transfer stopped half-way through the last payload.
        text = text[: text.rindex("<NOIDUNGFILE>") + len("<NOIDUNGFILE>") + 60]
    elif defect not in (None, "invalid_base64"):
        raise ValueError(f"{file['name']}: unknown defect {defect!r}")
    return text


def daily_files(cases: dict[str, Any]) -> list[dict[str, Any]]:
    """The files of each ``daily`` export: one a day from ``from`` to ``to`` (NGAYLAP that day),
    each with one outpatient visit of that day, MA_LK ``LK<facility><yymmdd>``, carrying the
    export's other fields (its residence codes)."""
    files = []
    for export in cases.get("daily", []):
        fields = {k: v for k, v in export.items() if k not in ("facility", "from", "to")}
        day = date(int(export["from"][:4]), int(export["from"][4:6]), int(export["from"][6:]))
        last = date(int(export["to"][:4]), int(export["to"][4:6]), int(export["to"][6:]))
        while day <= last:
            episode = {
                "MA_LK": f"LK{export['facility']}{day:%y%m%d}",
                "NGAY_VAO": f"{day:%Y%m%d}0800",
                "NGAY_RA": f"{day:%Y%m%d}0900",
                **fields,
            }
            files.append(
                {
                    "name": f"{export['facility']}_{day:%Y%m%d}_0001",
                    "facility": export["facility"],
                    "created": f"{day:%Y%m%d}",
                    "episodes": [episode],
                }
            )
            day += timedelta(days=1)
    return files


def write_claims(inbox: Path, cases: dict[str, Any], landing: str) -> int:
    """Drop the files of one landing (``first`` or ``later``) into the inbox; files written."""
    inbox.mkdir(parents=True, exist_ok=True)
    written = 0
    for file in [*cases["files"], *daily_files(cases)]:
        if file.get("landing", "first") != landing:
            continue
        (inbox / f"{file['name']}.xml").write_text(file_text(cases, file), encoding="utf-8")
        written += 1
    return written


CASE_SOURCE = CaseSource(
    folder="xml130",
    env=lambda folder: {"IOC_HEALTH_XML130_INBOX": str(folder)},
    write=lambda folder, stage: write_claims(folder, load_health_cases(), stage),
    sources=("health_xml130",),
)
