import base64
import unicodedata

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
