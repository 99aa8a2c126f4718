import base64
import hashlib
import json
import unicodedata
from dataclasses import asdict
from pathlib import Path

import pytest

from connectors.formats.xml130 import Xml130Error, decode_file
from simulator.fixtures import XML130_INBOX

PATHS = {"XML1": ".", "XML2": "DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC"}


def _wrapper(*tables: tuple[str, bytes], facility: str = "87001", count: int = 1) -> bytes:
    files = "".join(
        f"<FILEHOSO><LOAIHOSO>{name}</LOAIHOSO>"
        f"<NOIDUNGFILE>{base64.b64encode(doc).decode()}</NOIDUNGFILE></FILEHOSO>"
        for name, doc in tables
    )
    return (
        f"<GIAMDINHHS><THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>"
        f"<THONGTINHOSO><NGAYLAP>20250805</NGAYLAP><SOLUONGHOSO>{count}</SOLUONGHOSO>"
        f"<DANHSACHHOSO><HOSO>{files}</HOSO></DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>"
    ).encode()


def test_fixture_file_decodes_every_episode_and_drug_line() -> None:
    content = (XML130_INBOX / "87001/20250805/GIAMDINHHS_87001_20250805_01.xml").read_bytes()
    decoded = decode_file(content, PATHS)
    assert decoded.facility_code == "87001"
    assert decoded.created_on == "20250805"
    assert decoded.episodes == 3
    assert [r["MA_LK"] for r in decoded.tables["XML1"]] == [
        "870012508050001",
        "870012508050002",
        "870012508050003",
    ]
    assert len(decoded.tables["XML2"]) == 5
    first = decoded.tables["XML1"][0]
    assert first["HO_TEN"] == "Nguyễn Văn An"
    assert first["MAXA_CU_TRU"] == "29869"
    assert first["T_TONGCHI_BV"] == "185000"
    assert all(r["_facility_code"] == "87001" for r in decoded.tables["XML2"])


def test_invalid_base64_is_reported_with_its_reason() -> None:
    content = (XML130_INBOX / "82009/20250807/GIAMDINHHS_82009_20250807_01.xml").read_bytes()
    with pytest.raises(Xml130Error) as err:
        decode_file(content, PATHS)
    assert err.value.reason == "invalid_base64"
    assert "XML2" in err.value.detail


def test_truncated_file_is_malformed_xml() -> None:
    content = (XML130_INBOX / "87001/20250807/GIAMDINHHS_87001_20250807_01.xml").read_bytes()
    with pytest.raises(Xml130Error) as err:
        decode_file(content, PATHS)
    assert err.value.reason == "malformed_xml"


def test_nfd_text_is_normalised_to_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Trần Thị Bích")
    doc = f"<TONG_HOP><MA_LK>1</MA_LK><HO_TEN>{nfd}</HO_TEN></TONG_HOP>".encode()
    decoded = decode_file(_wrapper(("XML1", doc)), PATHS)
    name = decoded.tables["XML1"][0]["HO_TEN"]
    assert name == unicodedata.normalize("NFC", "Trần Thị Bích")
    assert name != nfd


def test_episode_count_must_match_header() -> None:
    doc = b"<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>"
    with pytest.raises(Xml130Error) as err:
        decode_file(_wrapper(("XML1", doc), count=2), PATHS)
    assert err.value.reason == "episode_count_mismatch"


def test_other_root_is_rejected() -> None:
    with pytest.raises(Xml130Error) as err:
        decode_file(b"<HOSO/>", PATHS)
    assert err.value.reason == "not_xml130"


def test_entity_expansion_is_refused() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><GIAMDINHHS>&a;</GIAMDINHHS>'
    with pytest.raises(Xml130Error) as err:
        decode_file(bomb, PATHS)
    assert err.value.reason == "malformed_xml"


def test_tables_not_asked_for_are_still_checked_but_skipped() -> None:
    xml3 = b"<CHITIEU_CHITIET_DVKT_VTYT/>"
    doc = b"<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>"
    decoded = decode_file(_wrapper(("XML1", doc), ("XML3", xml3)), PATHS)
    assert set(decoded.tables) == {"XML1", "XML2"}
    assert decoded.tables["XML2"] == []


# The record paths health_xml130 declares (connectors/sources/health/health_xml130.yaml), keyed
# by table type as connectors/kinds/files.py passes them to decode_file.
REGISTRY_PATHS = {
    "XML1": ".",
    "XML2": "DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC",
    "XML3": "DSACH_CHI_TIET_DVKT/CHI_TIET_DVKT",
    "XML4": "DSACH_CHI_TIET_CLS/CHI_TIET_CLS",
    "XML13": ".",
}
REFERENCE = Path(__file__).parent / "data" / "xml130_reference.json"
XML2_LINES = (
    "<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC>"
    "<CHI_TIET_THUOC><MA_LK>1</MA_LK><STT>1</STT><TEN_THUOC>Viên</TEN_THUOC></CHI_TIET_THUOC>"
    "<CHI_TIET_THUOC><STT>2</STT><MA_LK>1</MA_LK><SO_LUONG/></CHI_TIET_THUOC>"
    "</DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><STT>not on the record path</STT></CHI_TIET_THUOC>"
    "<DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><STT>3</STT></CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC>"
    "</CHITIEU_CHITIET_THUOC>"
)


def _b64(document: str | bytes) -> str:
    raw = document.encode() if isinstance(document, str) else document
    return base64.b64encode(raw).decode()


def _filehoso(kind: str, encoded: str) -> str:
    return f"<FILEHOSO><LOAIHOSO>{kind}</LOAIHOSO><NOIDUNGFILE>{encoded}</NOIDUNGFILE></FILEHOSO>"


def _file(hosos: str, count: str = "1", prolog: str = "", header: str = "") -> bytes:
    """A wrapper around ``hosos`` (the inside of DANHSACHHOSO), written as given."""
    return (
        f"{prolog}<GIAMDINHHS><THONGTINDONVI><MACSKCB>87001</MACSKCB></THONGTINDONVI>"
        f"<THONGTINHOSO><NGAYLAP>20250805</NGAYLAP>{header}<SOLUONGHOSO>{count}</SOLUONGHOSO>"
        f"<DANHSACHHOSO>{hosos}</DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>"
    ).encode()


def _xml1(document: str | bytes) -> bytes:
    return _file(f"<HOSO>{_filehoso('XML1', _b64(document))}</HOSO>")


def _value_cases() -> dict[str, bytes]:
    """Text values where two XML parsers could disagree (one XML1 document each)."""
    nfd = unicodedata.normalize("NFD", "Trần Thị Bích")
    return {
        "values blank and empty": _xml1(
            "<T><A/><B></B><C> \n\t </C><D>\u00a0v\u2003</D><E>\r\nx\r\n</E></T>"
        ),
        "values nfd": _xml1(f"<T><HO_TEN>{nfd}</HO_TEN><TÊN>{nfd}</TÊN></T>"),
        "values markup": _xml1(
            "<T><A>fo<!--c-->o</A><!-- between --><?pi x?><B>b<![CDATA[<c> ]]>d</B>"
            "<C>&amp;&#x1EA1;&lt;&#39;&quot;</C><D><![CDATA[]]></D><E> <!--c--> <!--d-->x</E>"
            "<F>a<!--c--> <!--d-->b</F><G><?pi?> <![CDATA[ ]]> </G></T>"
        ),
        "values mixed content": _xml1(
            "<T>head<A>x<S>y</S>z</A>tail<A>2</A><B><S>only child</S></B><C> <S/> </C></T>"
        ),
        "values namespaces": _xml1(
            '<T xmlns:p="urn:p"><p:A>1</p:A><B xmlns="urn:d">2</B><C a="x">3</C></T>'
        ),
        "values xml:space": _xml1('<T xml:space="preserve"> <A> x </A> <B> </B> </T>'),
        "values deep nesting": _xml1("<T><A>1</A>" + "<x>" * 300 + "</x>" * 300 + "</T>"),
        "declaration and bom": _xml1(
            '\ufeff<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<T><A>Ấ</A></T>'
        ),
        "encoding latin-1": _xml1(
            '<?xml version="1.0" encoding="iso-8859-1"?><T><A>café</A></T>'.encode("latin-1")
        ),
        "encoding utf-16": _xml1(
            '<?xml version="1.0" encoding="utf-16"?><T><A>Bích</A></T>'.encode("utf-16")
        ),
        "encoding windows-1258": _xml1(
            '<?xml version="1.0" encoding="windows-1258"?><T><A>Tr\u00e2\u0300n</A></T>'.encode(
                "cp1258"
            )
        ),
    }


def _base64_cases() -> dict[str, bytes]:
    """NOIDUNGFILE texts where two base64 decoders could disagree."""
    doc = "<TONG_HOP><MA_LK>1</MA_LK><HO_TEN>Nguyễn Văn An</HO_TEN></TONG_HOP>"
    body = doc + " " * (-len(doc.encode()) % 3)
    unpadded, padded = _b64(body), _b64(body + " ")
    kelvin = _b64("<T><A>(1)</A></T>")  # "(" at a multiple of 3 encodes as K
    assert "=" not in unpadded and padded.endswith("==") and "K" in kelvin

    def one(encoded: str, kind: str = "XML1") -> bytes:
        return _file(f"<HOSO>{_filehoso(kind, encoded)}</HOSO>")

    wrapped = "\n".join(unpadded[i : i + 16] for i in range(0, len(unpadded), 16))
    return {
        "base64 plain": one(unpadded),
        "base64 wrapped lines": one(f"\n    {wrapped}\n  "),
        "base64 crlf and tabs": one(wrapped.replace("\n", "\r\n\t")),
        "base64 unicode spaces": one(unpadded[:8] + "\u00a0\u3000" + unpadded[8:]),
        "base64 kelvin sign": one(kelvin.replace("K", "\u212a", 1)),
        "base64 excess padding": one(unpadded + "="),
        "base64 missing padding": one(padded.rstrip("=")),
        "base64 padding inside": one(unpadded[:4] + "==" + unpadded[4:]),
        "base64 bad character": one(unpadded[:8] + "!#" + unpadded[8:]),
        "base64 non-ascii": one(unpadded[:8] + "é" + unpadded[8:]),
        "base64 bad in table not asked for": one("!#", "XML9"),
        "base64 empty": one(""),
        "base64 empty in table not asked for": one("", "XML9"),
    }


def _wrapper_cases() -> dict[str, bytes]:
    """Wrapper shapes: header, episode list, FILEHOSO variants."""
    xml1 = _filehoso("XML1", _b64("<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>"))
    every_table = "".join(
        _filehoso(kind, _b64(doc))
        for kind, doc in [
            ("XML1", "<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>"),
            ("XML2", XML2_LINES),
            (
                "XML3",
                "<X><DSACH_CHI_TIET_DVKT><CHI_TIET_DVKT><STT>1</STT></CHI_TIET_DVKT>"
                "</DSACH_CHI_TIET_DVKT></X>",
            ),
            (
                "XML4",
                "<X><DSACH_CHI_TIET_CLS><CHI_TIET_CLS><STT>1</STT><GIA_TRI> 5,2 </GIA_TRI>"
                "</CHI_TIET_CLS></DSACH_CHI_TIET_CLS></X>",
            ),
            ("XML5", "<not parsed"),
            (
                "XML13",
                "<CHUYEN_TUYEN><MA_LK>1</MA_LK><MA_CSKCB_DI>87001</MA_CSKCB_DI></CHUYEN_TUYEN>",
            ),
        ]
    )
    simulator_style = (
        '<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        "  <THONGTINDONVI>\n    <MACSKCB> 87001\n</MACSKCB>\n  </THONGTINDONVI>\n"
        "  <THONGTINHOSO>\n    <NGAYLAP>2025<!-- day -->0805</NGAYLAP>\n"
        "    <SOLUONGHOSO> 2 </SOLUONGHOSO>\n    <DANHSACHHOSO>\n"
        f"      <HOSO>\n{every_table}\n      </HOSO>\n      <HOSO>{xml1}</HOSO>\n"
        "    </DANHSACHHOSO>\n  </THONGTINHOSO>\n  <CHUKYDONVI>MIIB</CHUKYDONVI>\n</GIAMDINHHS>\n"
    )
    return {
        "wrapper every table": _file(f"<HOSO>{every_table}</HOSO>"),
        "wrapper simulator style": simulator_style.encode(),
        "wrapper utf-16": simulator_style.replace("utf-8", "utf-16").encode("utf-16"),
        "wrapper no count": _file(f"<HOSO>{xml1}</HOSO>").replace(
            b"<SOLUONGHOSO>1</SOLUONGHOSO>", b""
        ),
        "wrapper count not a number": _file(f"<HOSO>{xml1}</HOSO>" * 2, count="ba"),
        "wrapper no episodes": _file("", count="0"),
        "wrapper episode outside the list": _file(
            f"<HOSO>{xml1}</HOSO>", header=f"<HOSO>{xml1}</HOSO>"
        ),
        "wrapper two lists": _file(
            f"<HOSO>{xml1}</HOSO>",
            count="2",
            header=(f"<DANHSACHHOSO><HOSO>{xml1}</HOSO></DANHSACHHOSO>"),
        ),
        "wrapper nfd facility": _file("", count="0").replace(
            b"87001", unicodedata.normalize("NFD", " Bệnh viện ").encode()
        ),
        "wrapper missing header": _file("", count="0").replace(b"87001", b" "),
        "wrapper namespaced root": _file("", count="0").replace(
            b"<GIAMDINHHS>", b'<GIAMDINHHS xmlns="urn:x">'
        ),
        "filehoso without loaihoso": _file(
            "<HOSO><FILEHOSO><NOIDUNGFILE>QUJD</NOIDUNGFILE></FILEHOSO></HOSO>"
        ),
        "filehoso without noidungfile": _file(
            "<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO></FILEHOSO></HOSO>"
        ),
        "loaihoso lower case with spaces": _file(
            f"<HOSO>{xml1}</HOSO>".replace("<LOAIHOSO>XML1", "<LOAIHOSO> xml1\n")
        ),
        "loaihoso in a namespace": _file(
            f"<HOSO>{xml1}</HOSO>".replace("<LOAIHOSO>", '<LOAIHOSO xmlns="urn:x">')
        ),
        "loaihoso twice": _file(
            f"<HOSO>{xml1}</HOSO>".replace(
                "<LOAIHOSO>XML1</LOAIHOSO>", "<LOAIHOSO>XML1</LOAIHOSO><LOAIHOSO>XML2</LOAIHOSO>"
            )
        ),
        "filehoso nested deeper": _file(f"<HOSO><X>{xml1}</X></HOSO>"),
    }


def _hostile_cases() -> dict[str, bytes]:
    """Files that must be refused (or, for a table not asked for, not parsed at all)."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    xxe = '<!DOCTYPE T [<!ENTITY e SYSTEM "file:///etc/passwd">]><T><A>&e;</A></T>'
    xml1 = _filehoso("XML1", _b64("<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>"))
    return {
        "entity bomb": b'<!DOCTYPE x [<!ENTITY a "aaaa">]><GIAMDINHHS>&a;</GIAMDINHHS>',
        "billion laughs": (
            f'<!DOCTYPE GIAMDINHHS [<!ENTITY l0 "lol">{laughs}]><GIAMDINHHS>&l9;</GIAMDINHHS>'
        ).encode(),
        "external entity": _file(
            f"<HOSO>{xml1}</HOSO>",
            prolog='<!DOCTYPE GIAMDINHHS [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        ).replace(b"87001", b"&e;"),
        "parameter entity": _file(
            f"<HOSO>{xml1}</HOSO>", prolog='<!DOCTYPE GIAMDINHHS [<!ENTITY % p "x">]>'
        ),
        "external entity in a table": _xml1(xxe),
        "entity in a table not asked for": _file(f"<HOSO>{_filehoso('XML9', _b64(xxe))}</HOSO>"),
        "undefined entity": _xml1("<T><A>&e;</A></T>"),
        "bad character reference": _xml1("<T><A>&#x1;</A></T>"),
        "invalid utf-8": _xml1(b"<T><A>\xff\xfe</A></T>"),
        "nul character": _xml1(b"<T><A>\x00</A></T>"),
        "truncated table": _xml1("<T><A>1</A>"),
        "junk after the root": _xml1("<T/><U/>"),
        "space before the declaration": _xml1(' <?xml version="1.0"?><T/>'),
        "not xml": b"MA_LK,STT\n1,1\n",
        "other root": b"<HOSO/>",
    }


def _reference_inputs() -> dict[str, bytes]:
    """Every input the reference covers: the fixture inbox and the cases built above."""
    inbox = {
        f"fixture {path.relative_to(XML130_INBOX)}": path.read_bytes()
        for path in sorted(XML130_INBOX.rglob("*.xml"))
    }
    built = {
        **_value_cases(),
        **_base64_cases(),
        **_wrapper_cases(),
        **_hostile_cases(),
        "test nfd": _wrapper(("XML1", "<TONG_HOP><HO_TEN>Bi\u0301ch</HO_TEN></TONG_HOP>".encode())),
        "test episode count": _wrapper(("XML1", b"<TONG_HOP/>"), count=2),
        "test tables not asked for": _wrapper(("XML1", b"<TONG_HOP/>"), ("XML3", b"<X/>")),
    }
    return {**inbox, **built}


def _outcome(content: bytes) -> str:
    """sha256 of the whole decoded file as canonical JSON (key and record order kept), or the
    reason it was refused."""
    try:
        decoded = decode_file(content, REGISTRY_PATHS)
    except Xml130Error as exc:
        return f"refused: {exc.reason}"
    canonical = json.dumps(asdict(decoded), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_decoded_output_matches_the_reference() -> None:
    """Every value landed from these inputs is what the decoder produced before it moved from
    defusedxml + ElementTree to lxml.

    The reference (``data/xml130_reference.json``) was made once, by a one-off command that
    imported this module with ``decode_file`` and ``Xml130Error`` taken from
    ``connectors/formats/xml130.py`` as it was at the commit before that change (6b0d21d) and
    wrote ``_outcome`` of every ``_reference_inputs`` entry: the fixture inbox and the cases
    built here (every value, key order, record order, undeclared tables, episode counts; the
    refusal reason for a file refused). Do not regenerate it to make this test pass: a failure
    means a decoded value changed, which is the bug to fix. A case added later needs its outcome
    from that old decoder too (``git show 6b0d21d:connectors/formats/xml130.py``).
    """
    reference = json.loads(REFERENCE.read_text())["outcomes"]
    assert {name: _outcome(content) for name, content in _reference_inputs().items()} == reference


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE GIAMDINHHS>",
        '<!DOCTYPE GIAMDINHHS SYSTEM "http://example.invalid/x130.dtd">',
        '<!DOCTYPE GIAMDINHHS [<!ATTLIST MACSKCB a CDATA "d">]>',
    ],
)
def test_any_doctype_is_refused(doctype: str) -> None:
    """Stricter than before lxml (defusedxml let a DOCTYPE without entities through): an XML 130
    file never has one, and refusing all of them leaves no entity to resolve or fetch."""
    with pytest.raises(Xml130Error) as err:
        decode_file(_file("", count="0", prolog=doctype), PATHS)
    assert err.value.reason == "malformed_xml"
    assert "DOCTYPE" in err.value.detail


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE GIAMDINHHS SYSTEM "{url}">',
        '<!DOCTYPE GIAMDINHHS [<!ENTITY e SYSTEM "{url}">]>',
        '<!DOCTYPE GIAMDINHHS [<!ENTITY % p SYSTEM "{url}"> %p;]>',
    ],
)
def test_local_files_named_by_a_file_are_never_read(doctype: str, tmp_path: Path) -> None:
    """Were the named file read, libxml2 would fail on its content before the DOCTYPE check
    (lxml's ``collect_ids=False`` is one option that makes it read an external DTD)."""
    named = tmp_path / "named.dtd"
    named.write_text("<not a dtd")
    content = _file("", count="0", prolog=doctype.format(url=named.as_uri()))
    with pytest.raises(Xml130Error) as err:
        decode_file(content.replace(b"87001", b"&e;"), PATHS)
    assert err.value.detail == "wrapper: a DOCTYPE is not accepted"


def test_doctype_in_a_table_is_refused() -> None:
    doc = b"<!DOCTYPE TONG_HOP><TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>"
    with pytest.raises(Xml130Error) as err:
        decode_file(_wrapper(("XML1", doc)), PATHS)
    assert err.value.reason == "malformed_xml"
    assert err.value.detail.startswith("episode 1, XML1: ")


def test_unknown_encoding_is_malformed_xml() -> None:
    # Before lxml this escaped as a LookupError from ElementTree.
    with pytest.raises(Xml130Error) as err:
        decode_file(b'<?xml version="1.0" encoding="x-unknown"?><GIAMDINHHS/>', PATHS)
    assert err.value.reason == "malformed_xml"


def test_table_over_libxml2_text_node_limit_decodes() -> None:
    """A NOIDUNGFILE beyond libxml2's default 10 MB text node cap (a long inpatient stay's
    table can be) lands as before: the parser runs with ``huge_tree``."""
    note = "x" * 8_000_000
    doc = f"<TONG_HOP><MA_LK>1</MA_LK><GHI_CHU>{note}</GHI_CHU></TONG_HOP>".encode()
    assert len(base64.b64encode(doc)) > 10_000_000
    decoded = decode_file(_wrapper(("XML1", doc)), PATHS)
    assert decoded.tables["XML1"][0]["GHI_CHU"] == note
