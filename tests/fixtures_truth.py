"""Known answers of the hand-written XML 130 fixture inbox (simulator/fixtures/xml130/README.md)."""

VALID_EPISODES = 6
DRUG_LINES = 9
TOTAL_COST_VND = 3_739_000
QUARANTINED = {
    "82009/20250807/GIAMDINHHS_82009_20250807_01.xml": "invalid_base64",
    "87001/20250807/GIAMDINHHS_87001_20250807_01.xml": "malformed_xml",
}
EPISODES_BY_COMMUNE = {"29869": 2, "30055": 1, "28249": 1, "28261": 1, "29944": 1}
EPISODES_BY_DATE = {"2025-08-03": 1, "2025-08-05": 2, "2025-08-06": 3}
# Clear personal values written in the fixture files: none may appear in the lake or warehouse.
CLEAR_PII = [
    "087085001234",
    "087190004567",
    "087301007788",
    "082175003311",
    "082199008822",
    "087168009900",
    "Nguyễn Văn An",
    "Huỳnh Ngọc Lan",
    "BN87001000001",
]
