"""Hypothesis strategies for XML 130 claim files, and what each file must turn into.

Written from the official texts (Decision 130/QĐ-BYT as amended by 4750/QĐ-BYT and 3176/QĐ-BYT;
see tests/conformance/README.md), not from the project's generator: a file is a GIAMDINHHS
wrapper whose HOSO carry one FILEHOSO per table, NOIDUNGFILE being the table's own XML document
in base64. Every generated record is valid by the texts, so a file either lands every record
with exactly the values generated, or — after a fatal mutation — is quarantined whole with the
reason that mutation calls for.

Mutations that must not change what lands: optional tags dropped or sent empty (``<X></X>`` or
``<X/>``), tags reordered, code values and LOAIHOSO in another case, an unknown tag, an unknown
table type (counted as undeclared), text in CDATA or in NFD, base64 wrapped over lines, the
wrapper or a document re-encoded (UTF-16 with BOM, Windows-1258 declared). Fatal ones: bytes
truncated (malformed_xml), a payload with a character outside the base64 alphabet
(invalid_base64), another root element (not_xml130), SOLUONGHOSO not matching the HOSO
(episode_count_mismatch).
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from tests.windows_1258 import encode as windows_1258

NGAYLAP = "20250720"
FACILITY = "87001"
# Residence codes of both structures (dbt_project/seeds/admin): new 28261 / 28249 (province
# 82), old Đồng Tháp 29872 (province 87), old Tiền Giang 28252.
COMMUNES = [
    ("82", "", "28261"),
    ("82", "", "28249"),
    ("87", "866", "29872"),
    ("82", "815", "28252"),
]

# Bảng 1 (XML1, root TONG_HOP) in the 3176 layout, in the order of the table.
XML1_FIELDS = [
    "MA_LK",
    "STT",
    "MA_BN",
    "HO_TEN",
    "SO_CCCD",
    "NGAY_SINH",
    "GIOI_TINH",
    "NHOM_MAU",
    "MA_QUOCTICH",
    "MA_DANTOC",
    "MA_NGHE_NGHIEP",
    "DIA_CHI",
    "MATINH_CU_TRU",
    "MAHUYEN_CU_TRU",
    "MAXA_CU_TRU",
    "DIEN_THOAI",
    "MA_THE_BHYT",
    "MA_DKBD",
    "GT_THE_TU",
    "GT_THE_DEN",
    "NGAY_MIEN_CCT",
    "LY_DO_VV",
    "LY_DO_VNT",
    "MA_LY_DO_VNT",
    "CHAN_DOAN_VAO",
    "CHAN_DOAN_RV",
    "MA_BENH_CHINH",
    "MA_BENH_KT",
    "MA_BENH_YHCT",
    "MA_PTTT_QT",
    "MA_DOITUONG_KCB",
    "MA_NOI_DI",
    "MA_NOI_DEN",
    "MA_TAI_NAN",
    "NGAY_VAO",
    "NGAY_VAO_NOI_TRU",
    "NGAY_RA",
    "GIAY_CHUYEN_TUYEN",
    "SO_NGAY_DTRI",
    "PP_DIEU_TRI",
    "KET_QUA_DTRI",
    "MA_LOAI_RV",
    "GHI_CHU",
    "NGAY_TTOAN",
    "T_THUOC",
    "T_VTYT",
    "T_TONGCHI_BV",
    "T_TONGCHI_BH",
    "T_BNTT",
    "T_BNCCT",
    "T_BHTT",
    "T_NGUONKHAC",
    "T_BHTT_GDV",
    "NAM_QT",
    "THANG_QT",
    "MA_LOAI_KCB",
    "MA_KHOA",
    "MA_CSKCB",
    "MA_KHUVUC",
    "CAN_NANG",
    "CAN_NANG_CON",
    "NAM_NAM_LIEN_TUC",
    "NGAY_TAI_KHAM",
    "MA_HSBA",
    "MA_TTDV",
    "DU_PHONG",
]
XML1_REQUIRED = {"MA_LK", "MA_CSKCB", "NGAY_VAO"}
# Bảng 2 (XML2), the fields this generator fills.
XML2_FIELDS = [
    "MA_LK",
    "STT",
    "MA_THUOC",
    "MA_NHOM",
    "TEN_THUOC",
    "DON_VI_TINH",
    "HAM_LUONG",
    "SO_LUONG",
    "DON_GIA",
    "THANH_TIEN_BV",
    "THANH_TIEN_BH",
    "MUC_HUONG",
    "T_BNTT",
    "T_BNCCT",
    "T_BHTT",
    "MA_KHOA",
    "MA_BAC_SI",
    "NGAY_YL",
    "NGAY_TH_YL",
]
XML2_REQUIRED = {"MA_LK", "STT", "MA_THUOC"}
TEXT_FIELDS = {
    "HO_TEN",
    "DIA_CHI",
    "LY_DO_VV",
    "LY_DO_VNT",
    "CHAN_DOAN_VAO",
    "CHAN_DOAN_RV",
    "PP_DIEU_TRI",
    "GHI_CHU",
    "DU_PHONG",
    "TEN_THUOC",
    "DON_VI_TINH",
}
CODE_FIELDS = {"MA_LOAI_KCB", "MA_LOAI_RV", "GIOI_TINH", "NHOM_MAU", "MA_KHUVUC"}
BASE64_BAD = "*@!%$#^~?"  # never in the base64 alphabet, harmless in XML text


# --- values ---------------------------------------------------------------------------------

# Vietnamese letters (NFC), with XML's special characters among the punctuation.
_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    "áàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
    "AĂÂĐÊÔƠƯÁẤẮÉẾÍÓỐỚÚỨÝ"
)
_word = st.text(alphabet=_LETTERS + "0123456789", min_size=1, max_size=8)
text_values = st.builds(
    lambda words, punct: (" ".join(words) + punct).strip(),
    st.lists(_word, min_size=1, max_size=4),
    st.sampled_from(["", ",", " & co", " <K29>", " 'x' \"y\"", "; 5%"]),
)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def _stamp(draw: st.DrawFn, day_from: int = 1, day_to: int = 19, month: int = 7) -> str:
    day = draw(st.integers(day_from, day_to))
    return f"2025{month:02d}{day:02d}{draw(st.integers(0, 23)):02d}{draw(st.integers(0, 59)):02d}"


_money = st.one_of(
    st.integers(0, 5_000_000).map(str),
    st.builds(lambda i, f: f"{i}.{f}", st.integers(0, 99_999), st.integers(0, 99)),
)


@st.composite
def xml1_record(draw: st.DrawFn, ma_lk: str) -> dict[str, str]:
    """Every field of Bảng 1 with a value valid by the text, in the table's order."""
    vao = draw(_stamp(day_from=1, day_to=15))
    ra = draw(_stamp(day_from=16, day_to=19))  # discharge after admission, before NGAYLAP
    tinh, huyen, xa = draw(st.sampled_from(COMMUNES))
    values = {
        "MA_LK": ma_lk,
        "STT": "1",
        "MA_BN": "BN" + draw(_digits(8)),
        "HO_TEN": draw(text_values),
        "SO_CCCD": draw(_digits(12)),
        "NGAY_SINH": draw(_digits(4).map(lambda y: f"19{y[:2]}0101")) + "0000",
        "GIOI_TINH": draw(st.sampled_from(["1", "2", "3"])),
        "NHOM_MAU": draw(st.sampled_from(["A", "B", "AB", "O"])),
        "MA_QUOCTICH": "000",
        "MA_DANTOC": draw(_digits(2)),
        "MA_NGHE_NGHIEP": draw(_digits(5)),
        "DIA_CHI": draw(text_values),
        "MATINH_CU_TRU": tinh,
        "MAHUYEN_CU_TRU": huyen,
        "MAXA_CU_TRU": xa,
        "DIEN_THOAI": "09" + draw(_digits(8)),
        "MA_THE_BHYT": "GD48787" + draw(_digits(8)),
        "MA_DKBD": "87" + draw(_digits(3)),
        "GT_THE_TU": "20250101",
        "GT_THE_DEN": "20251231",
        "NGAY_MIEN_CCT": "",
        "LY_DO_VV": draw(text_values),
        "LY_DO_VNT": draw(text_values),
        "MA_LY_DO_VNT": draw(_digits(2)),
        "CHAN_DOAN_VAO": draw(text_values),
        "CHAN_DOAN_RV": draw(text_values),
        "MA_BENH_CHINH": draw(st.sampled_from(["J20.9", "I10", "K29.9", "A97.0", "O80"])),
        "MA_BENH_KT": draw(st.sampled_from(["", "E11.9", "E11.9;I10"])),
        "MA_BENH_YHCT": "",
        "MA_PTTT_QT": "",
        "MA_DOITUONG_KCB": draw(st.sampled_from(["1.1", "1.2", "2", "3.1"])),
        "MA_NOI_DI": "",
        "MA_NOI_DEN": draw(st.sampled_from(["", "82010"])),
        "MA_TAI_NAN": "",
        "NGAY_VAO": vao,
        "NGAY_VAO_NOI_TRU": draw(st.sampled_from(["", vao])),
        "NGAY_RA": ra,
        "GIAY_CHUYEN_TUYEN": "",
        "SO_NGAY_DTRI": str(draw(st.integers(0, 30))),
        "PP_DIEU_TRI": draw(text_values),
        "KET_QUA_DTRI": draw(st.sampled_from(["1", "2", "3", "4", "5"])),
        "MA_LOAI_RV": draw(st.sampled_from(["1", "2", "3", "4", "5"])),
        "GHI_CHU": draw(text_values),
        "NGAY_TTOAN": ra,
        "T_THUOC": draw(_money),
        "T_VTYT": draw(_money),
        "T_TONGCHI_BV": draw(_money),
        "T_TONGCHI_BH": draw(_money),
        "T_BNTT": draw(_money),
        "T_BNCCT": draw(_money),
        "T_BHTT": draw(_money),
        "T_NGUONKHAC": draw(_money),
        "T_BHTT_GDV": draw(_money),
        "NAM_QT": "2025",
        "THANG_QT": "7",
        "MA_LOAI_KCB": draw(st.sampled_from([f"0{i}" for i in range(1, 10)])),
        "MA_KHOA": draw(st.sampled_from(["K01", "K03", "K26", "K01;K03"])),
        "MA_CSKCB": FACILITY,
        "MA_KHUVUC": draw(st.sampled_from(["", "K1", "K2", "K3"])),
        "CAN_NANG": str(draw(st.integers(3, 120))),
        "CAN_NANG_CON": "",
        "NAM_NAM_LIEN_TUC": "",
        "NGAY_TAI_KHAM": draw(st.sampled_from(["", "20250801"])),
        "MA_HSBA": "HS" + draw(_digits(8)),
        "MA_TTDV": draw(_digits(6)) + "/DT-CCHN",
        "DU_PHONG": draw(st.sampled_from(["", "x"])),
    }
    assert list(values) == XML1_FIELDS
    return values


@st.composite
def xml2_line(draw: st.DrawFn, ma_lk: str, stt: int) -> dict[str, str]:
    return {
        "MA_LK": ma_lk,
        "STT": str(stt),
        "MA_THUOC": "40." + str(draw(st.integers(1, 999))),
        "MA_NHOM": draw(st.sampled_from(["4", "5", "6"])),
        "TEN_THUOC": draw(text_values),
        "DON_VI_TINH": draw(st.sampled_from(["Viên", "Ống", "Lọ", "Gói"])),
        "HAM_LUONG": draw(st.sampled_from(["500mg", "1g", "5UI/1ml"])),
        "SO_LUONG": str(draw(st.integers(1, 60))),
        "DON_GIA": draw(_money),
        "THANH_TIEN_BV": draw(_money),
        "THANH_TIEN_BH": draw(_money),
        "MUC_HUONG": draw(st.sampled_from(["80", "95", "100"])),
        "T_BNTT": draw(_money),
        "T_BNCCT": draw(_money),
        "T_BHTT": draw(_money),
        "MA_KHOA": "K01",
        "MA_BAC_SI": draw(_digits(6)) + "/DT-CCHN",
        "NGAY_YL": draw(_stamp(day_from=1, day_to=15)),
        "NGAY_TH_YL": draw(st.sampled_from(["", "202507151000"])),
    }


# --- documents, as generated and as written -------------------------------------------------


@dataclass
class Document:
    """One table's document of one episode: records (tag → value), and how it is written."""

    table: str  # LOAIHOSO as the texts spell it (XML1, XML2, …)
    records: list[dict[str, str]]
    omitted: set[str] = field(default_factory=set)  # optional tags not written at all
    emptied: dict[str, str] = field(default_factory=dict)  # optional tags written empty: style
    order: list[int] | None = None  # a permutation of the tags (reordered)
    extra_tag: bool = False  # a tag the texts do not define
    cdata: bool = False  # text values in CDATA sections
    nfd: bool = False  # text values in NFD
    encoding: str = "utf-8"  # "utf-8", "utf-16-le", "utf-16-be", "windows-1258"
    loaihoso: str | None = None  # LOAIHOSO as written (another case)
    wrap: int = 0  # base64 line length (0: one line)
    corrupt_at: int | None = None  # a character outside the base64 alphabet inserted here

    def expected(self) -> list[dict[str, str | None]]:
        """Records as the decoder must give them: NFC, empty → None, omitted → absent."""
        out: list[dict[str, str | None]] = []
        for record in self.records:
            row: dict[str, str | None] = {}
            for tag, value in record.items():
                if tag in self.omitted:
                    continue
                row[tag] = None if tag in self.emptied or value == "" else value
            out.append(row)
        return out

    def xml(self) -> bytes:
        return render_document(self)


_ROOTS = {
    "XML1": ("TONG_HOP", None, None),
    "XML2": ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC"),
}


def _element(doc: Document, tag: str, value: str) -> str:
    if tag in doc.emptied:
        return f"<{tag}/>" if doc.emptied[tag] == "self" else f"<{tag}></{tag}>"
    if tag in TEXT_FIELDS and doc.nfd:
        value = unicodedata.normalize("NFD", value)
    if tag in TEXT_FIELDS and doc.cdata and "]]>" not in value:
        return f"<{tag}><![CDATA[{value}]]></{tag}>"
    return f"<{tag}>{escape(value)}</{tag}>"


def render_document(doc: Document) -> bytes:
    root, listing, item = _ROOTS[doc.table]
    bodies = []
    for record in doc.records:
        tags = [t for t in record if t not in doc.omitted]
        if doc.order is not None:
            tags = [tags[i] for i in doc.order if i < len(tags)] + [
                t for i, t in enumerate(tags) if i >= len(doc.order)
            ]
        inner = "".join(_element(doc, t, record[t]) for t in tags)
        if doc.extra_tag:
            inner += "<ZZ_MO_RONG>Phần mở rộng &amp; ghi chú</ZZ_MO_RONG>"
        bodies.append(inner if item is None else f"<{item}>{inner}</{item}>")
    content = bodies[0] if listing is None else f"<{listing}>{''.join(bodies)}</{listing}>"
    label = {"utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}.get(doc.encoding, doc.encoding)
    text = f'<?xml version="1.0" encoding="{label}"?>\n<{root}>{content}</{root}>\n'
    if doc.encoding == "windows-1258":
        return windows_1258(text)
    if doc.encoding.startswith("utf-16"):
        bom = b"\xff\xfe" if doc.encoding.endswith("le") else b"\xfe\xff"
        return bom + text.encode(doc.encoding)
    return text.encode("utf-8")


def payload(doc: Document) -> str:
    text = base64.b64encode(doc.xml()).decode("ascii")
    if doc.corrupt_at is not None:
        at = doc.corrupt_at % (len(text) + 1)
        text = text[:at] + BASE64_BAD[doc.corrupt_at % len(BASE64_BAD)] + text[at:]
    if doc.wrap:
        text = "\n".join(text[i : i + doc.wrap] for i in range(0, len(text), doc.wrap)) + "\n"
    return text


@dataclass
class ClaimFile:
    """One wrapper: episodes (lists of documents), how it is written, and its fate."""

    name: str
    episodes: list[list[Document]]
    unknown_tables: list[str] = field(default_factory=list)  # extra LOAIHOSO in episode 1
    encoding: str = "utf-8"  # wrapper encoding
    root: str = "GIAMDINHHS"
    soluong_delta: int = 0  # SOLUONGHOSO = number of HOSO + this
    truncate_at: int | None = None  # keep only this many bytes (before the root's end)

    def content(self) -> bytes:
        hosos = []
        for number, documents in enumerate(self.episodes):
            files = [(d.loaihoso or d.table, payload(d)) for d in documents]
            if number == 0:
                files += [
                    (t, base64.b64encode(b"<KHONG_RO>?</KHONG_RO>").decode())
                    for t in self.unknown_tables
                ]
            hosos.append(
                "<HOSO>"
                + "".join(
                    f"<FILEHOSO><LOAIHOSO>{t}</LOAIHOSO><NOIDUNGFILE>{p}</NOIDUNGFILE></FILEHOSO>"
                    for t, p in files
                )
                + "</HOSO>"
            )
        label = "UTF-16" if self.encoding.startswith("utf-16") else self.encoding
        text = (
            f'<?xml version="1.0" encoding="{label}"?>\n'
            f"<{self.root}><THONGTINDONVI><MACSKCB>{FACILITY}</MACSKCB></THONGTINDONVI>"
            f"<THONGTINHOSO><NGAYLAP>{NGAYLAP}</NGAYLAP>"
            f"<SOLUONGHOSO>{len(self.episodes) + self.soluong_delta}</SOLUONGHOSO>"
            f"<DANHSACHHOSO>{''.join(hosos)}</DANHSACHHOSO></THONGTINHOSO>"
            f"<CHUKYDONVI>chữ ký số</CHUKYDONVI></{self.root}>\n"
        )
        if self.encoding.startswith("utf-16"):
            bom = b"\xff\xfe" if self.encoding.endswith("le") else b"\xfe\xff"
            data = bom + text.encode(self.encoding)
            end = data.rindex(f"</{self.root}>".encode(self.encoding))
        else:
            data = text.encode("utf-8")
            end = data.rindex(f"</{self.root}>".encode())
        if self.truncate_at is not None:
            data = data[: self.truncate_at % (end + 1)]  # strictly before the root is closed
        return data

    def fate(self) -> str | None:
        """The whole-file quarantine reason the texts call for, or None: the file lands."""
        if self.truncate_at is not None:
            return "malformed_xml"
        if self.root != "GIAMDINHHS":
            return "not_xml130"
        if any(d.corrupt_at is not None for e in self.episodes for d in e):
            return "invalid_base64"
        if self.soluong_delta:
            return "episode_count_mismatch"
        return None

    def records(self, table: str) -> list[dict[str, str | None]]:
        return [r for e in self.episodes for d in e if d.table == table for r in d.expected()]


# --- strategies -----------------------------------------------------------------------------


@st.composite
def documents(
    draw: st.DrawFn, table: str, records: list[dict[str, str]], required: set[str]
) -> Document:
    optional = [t for t in records[0] if t not in required]
    omitted = set(draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional))))
    left = [t for t in optional if t not in omitted]
    emptied = draw(
        st.dictionaries(st.sampled_from(left), st.sampled_from(["pair", "self"]), max_size=5)
        if left
        else st.just({})
    )
    n_tags = len(records[0]) - len(omitted)
    order = draw(st.one_of(st.none(), st.permutations(range(n_tags)).map(list)))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16-le", "utf-16-be", "windows-1258"]))
    return Document(
        table=table,
        records=records,
        omitted=omitted,
        emptied=emptied,
        order=order,
        extra_tag=draw(st.booleans()),
        cdata=draw(st.booleans()),
        nfd=draw(st.booleans()),
        encoding=encoding,
        loaihoso=draw(st.sampled_from([None, table.lower(), table.capitalize()])),
        wrap=draw(st.sampled_from([0, 0, 64, 76])),
    )


@st.composite
def episodes(draw: st.DrawFn, ma_lk: str) -> list[Document]:
    one = draw(xml1_record(ma_lk))
    docs = [draw(documents("XML1", [one], XML1_REQUIRED))]
    lines = draw(st.integers(0, 3))
    if lines:
        drugs = [draw(xml2_line(ma_lk, n)) for n in range(1, lines + 1)]
        docs.append(draw(documents("XML2", drugs, XML2_REQUIRED)))
    return docs


@st.composite
def claim_files(draw: st.DrawFn, name: str, first_lk: int) -> ClaimFile:
    """A file of 1–3 episodes (MA_LK first_lk, first_lk + 1, …) with at most one fatal
    mutation."""
    n = draw(st.integers(1, 3))
    eps = [draw(episodes(f"LK{first_lk + i:010d}")) for i in range(n)]
    unknown = draw(st.lists(st.sampled_from(["XML16", "XML20", "XML99"]), max_size=2))
    claim = ClaimFile(
        name=name,
        episodes=eps,
        unknown_tables=unknown,
        encoding=draw(st.sampled_from(["utf-8", "utf-8", "utf-16-le", "utf-16-be"])),
    )
    fatal = draw(st.sampled_from([None, None, None, "truncate", "base64", "root", "count"]))
    if fatal == "truncate":
        claim.truncate_at = draw(st.integers(0, 10**6))
    elif fatal == "base64":
        episode = draw(st.sampled_from(eps))
        draw(st.sampled_from(episode)).corrupt_at = draw(st.integers(0, 10**6))
    elif fatal == "root":
        claim.root = draw(st.sampled_from(["GIAMDINH", "giamdinhhs", "CHI_TIEU_TRANG_THAI_KCB"]))
    elif fatal == "count":
        claim.soluong_delta = draw(st.sampled_from([-1, 1, 2]))
    return claim
