import hashlib
import hmac

from connectors.pseudonymise import apply_treatments, pseudonym
from connectors.registry import PiiTreatment

KEY = b"k1"


def test_pseudonym_is_keyed_hmac_sha256() -> None:
    expected = hmac.new(KEY, b"087085001234", hashlib.sha256).hexdigest()
    assert pseudonym(KEY, " 087085001234 ") == expected
    assert len(expected) == 64


def test_pseudonym_is_stable_and_depends_on_the_key() -> None:
    assert pseudonym(KEY, "x") == pseudonym(KEY, "x")
    assert pseudonym(KEY, "x") != pseudonym(b"k2", "x")
    assert pseudonym(KEY, "x") != pseudonym(KEY, "y")


def test_treatments() -> None:
    record: dict[str, str | None] = {
        "SO_CCCD": "087085001234",
        "HO_TEN": "Nguyễn Văn An",
        "NGAY_SINH": "198503120000",
        "SO_DIEN_THOAI": "0912345678",
        "MA_THE_BHYT": "",
        "MA_LK": "1",
    }
    out = apply_treatments(
        record,
        {
            "SO_CCCD": PiiTreatment.HMAC,
            "HO_TEN": PiiTreatment.HMAC,
            "NGAY_SINH": PiiTreatment.YEAR,
            "SO_DIEN_THOAI": PiiTreatment.DROP,
            "MA_THE_BHYT": PiiTreatment.HMAC,
        },
        KEY,
    )
    assert out["SO_CCCD"] == pseudonym(KEY, "087085001234")
    assert out["HO_TEN"] == pseudonym(KEY, "Nguyễn Văn An")
    assert out["NGAY_SINH"] == "1985"
    assert "SO_DIEN_THOAI" not in out
    assert out["MA_THE_BHYT"] is None  # empty stays empty, not the hash of ""
    assert out["MA_LK"] == "1"
    assert record["SO_CCCD"] == "087085001234"  # the input is not modified
