"""Code lists the simulated hospital systems draw from: visit types, diagnoses, drugs, services.

Codes follow the real shapes (MA_LOAI_KCB of Decision 130, ICD-10, drug and service codes of the
Ministry's catalogues as ``group.number``); prices are of the order of the 2024 price lists in VND.
"""

from __future__ import annotations

from simulator.health.facilities import DISTRICT_CENTRE, HOSPITAL, PRIVATE, STATION

# MA_LOAI_KCB mix by facility type: outpatient (01) dominates everywhere.
VISIT_MIX: dict[str, list[tuple[str, float]]] = {
    HOSPITAL: [("01", 0.60), ("02", 0.04), ("03", 0.13), ("04", 0.03), ("05", 0.07),
               ("07", 0.02), ("08", 0.05), ("09", 0.06)],
    DISTRICT_CENTRE: [("01", 0.68), ("02", 0.03), ("03", 0.08), ("04", 0.02), ("05", 0.08),
                      ("07", 0.03), ("08", 0.02), ("09", 0.06)],
    STATION: [("01", 0.84), ("06", 0.03), ("07", 0.13)],
    PRIVATE: [("01", 0.92), ("02", 0.05), ("09", 0.03)],
}  # fmt: skip
# Which diagnosis list, reason for visit and department each visit type uses.
VISIT_GROUP = {"01": "acute", "02": "acute", "03": "inpatient", "04": "inpatient",
               "05": "chronic", "06": "inpatient", "07": "chronic", "08": "chronic",
               "09": "emergency"}  # fmt: skip
DIAGNOSES: dict[str, list[tuple[str, str]]] = {
    "acute": [("J02.9", "Viêm họng cấp"), ("J06.9", "Nhiễm trùng đường hô hấp trên cấp"),
              ("K29.7", "Viêm dạ dày"), ("M54.5", "Đau thắt lưng"),
              ("A09", "Tiêu chảy và viêm dạ dày ruột"), ("R51", "Đau đầu"),
              ("H10.9", "Viêm kết mạc"), ("L30.9", "Viêm da")],
    "chronic": [("I10", "Tăng huyết áp vô căn"), ("E11.9", "Đái tháo đường typ 2"),
                ("E78.5", "Tăng lipid máu"), ("J45.9", "Hen phế quản"),
                ("I25.1", "Bệnh tim thiếu máu cục bộ mạn")],
    "inpatient": [("J18.9", "Viêm phổi"), ("A91", "Sốt xuất huyết Dengue"),
                  ("K35.8", "Viêm ruột thừa cấp"), ("O80", "Đẻ thường một thai"),
                  ("I63.9", "Nhồi máu não"), ("N39.0", "Nhiễm khuẩn đường tiết niệu"),
                  ("J44.1", "Bệnh phổi tắc nghẽn mạn tính đợt cấp")],
    "emergency": [("S06.0", "Chấn động não"), ("T14.9", "Chấn thương"), ("R10.4", "Đau bụng"),
                  ("I21.9", "Nhồi máu cơ tim cấp"), ("T78.4", "Dị ứng")],
}  # fmt: skip
REASON = {"acute": "Khám bệnh", "chronic": "Tái khám định kỳ", "inpatient": "Điều trị nội trú",
          "emergency": "Cấp cứu"}  # fmt: skip
DEPARTMENT = {"acute": "K01", "chronic": "K01", "inpatient": "K03", "emergency": "K02"}
# (MA_THUOC, name, unit, unit price VND)
DRUGS = [
    ("40.17", "Paracetamol 500mg", "Viên", 300), ("40.1.1", "Amoxicilin 500mg", "Viên", 1200),
    ("40.678", "Amlodipin 5mg", "Viên", 500), ("40.718", "Metformin 500mg", "Viên", 400),
    ("40.230", "Omeprazol 20mg", "Viên", 800), ("40.1041", "Vitamin C 500mg", "Viên", 200),
    ("40.104", "Cefuroxim 500mg", "Viên", 4500), ("40.522", "Losartan 50mg", "Viên", 700),
    ("40.64", "Natri clorid 0,9% 500ml", "Chai", 9000), ("40.236", "Oresol 245", "Gói", 1500),
    ("40.47", "Ceftriaxon 1g", "Lọ", 18000), ("40.691", "Atorvastatin 10mg", "Viên", 900),
]  # fmt: skip
# (MA_DICH_VU, name, MA_NHOM, unit price VND); MA_NHOM 1 lab, 2 imaging, 3 function test,
# 13 examination, 14 inpatient bed day.
EXAM = ("02.1896", "Khám bệnh", 13, 42100)
BED_DAY = ("K03.1917", "Ngày giường bệnh Nội khoa", 14, 249000)
TESTS = [
    ("22.0121.1370", "Tổng phân tích tế bào máu ngoại vi", 1, 46200),
    ("23.0075.1494", "Định lượng Glucose", 1, 21500),
    ("18.0119.0028", "Chụp X-quang ngực thẳng", 2, 65400),
    ("18.0001.0001", "Siêu âm ổ bụng", 2, 43900),
    ("21.0014.1778", "Điện tim thường", 3, 32800),
]
# (MA_VAT_TU, name, unit price) — MA_NHOM 10 medical supplies.
SUPPLIES = [
    ("N03.05.010", "Bơm tiêm nhựa 5ml", 900),
    ("N02.03.030", "Găng tay khám", 1500),
    ("N04.01.020", "Bộ dây truyền dịch", 6500),
]
# Results of lab tests in XML4: (MA_CHI_SO, low, high, unit).
RESULTS = {
    "22.0121.1370": [("WBC", 4.0, 11.0, "G/L"), ("HGB", 110.0, 160.0, "g/L")],
    "23.0075.1494": [("GLU", 3.9, 9.0, "mmol/L")],
}
BLOOD_GROUPS = ["O", "A", "B", "AB"]
