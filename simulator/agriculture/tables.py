"""Table generators of the agriculture systems: columns and value ranges per domain table.

Each table is declared once (columns, types, value choices/ranges, rows per delivery at scale 1)
and reused by the systems that hold it (``systems.yaml``). Every row also carries the common
columns: record id, report date and the admin codes the system sent that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMMON = [
    ("record_id", "text"),
    ("report_date", "date"),
    ("province_code", "text"),
    ("district_code", "text"),
    ("commune_code", "text"),
    ("commune_name", "text"),
]


@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # text | int | real
    choices: tuple[str, ...] = ()
    lo: float = 0.0
    hi: float = 0.0
    prefix: str = ""  # identifiers: PREFIX-nnnnnn
    amount: bool = False  # a quantity that cannot be negative (target of negative_amount)

    def draw(self, rng: np.random.Generator) -> str | int | float:
        if self.prefix:
            return f"{self.prefix}-{int(rng.integers(0, 1_000_000)):06d}"
        if self.choices:
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.kind == "int":
            return int(rng.integers(int(self.lo), int(self.hi) + 1))
        return round(float(rng.uniform(self.lo, self.hi)), 2)


def C(name: str, *choices: str) -> Col:  # noqa: N802 - short constructors keep the table list readable
    return Col(name, "text", choices=choices)


def ID(name: str, prefix: str) -> Col:  # noqa: N802
    return Col(name, "text", prefix=prefix)


def N(name: str, lo: int, hi: int, amount: bool = True) -> Col:  # noqa: N802
    return Col(name, "int", lo=lo, hi=hi, amount=amount)


def R(name: str, lo: float, hi: float, amount: bool = True) -> Col:  # noqa: N802
    return Col(name, "real", lo=lo, hi=hi, amount=amount)


@dataclass(frozen=True)
class Table:
    rows: int  # rows per delivery at scale 1
    columns: tuple[Col, ...]


CROPS = ("Lúa", "Xoài", "Sen", "Quýt hồng", "Sầu riêng", "Thanh long", "Rau màu", "Nhãn")
SEASONS = ("Đông Xuân", "Hè Thu", "Thu Đông")
LIVESTOCK = ("Heo", "Bò", "Trâu", "Gà", "Vịt")
DISEASES = ("Lở mồm long móng", "Cúm gia cầm H5N1", "Dịch tả heo châu Phi", "Dại", "Tụ huyết trùng")
FISH = ("Cá tra", "Tôm càng xanh", "Cá lóc", "Ếch", "Cá rô đầu vuông", "Tôm thẻ chân trắng")
MARKETS = ("Trung Quốc", "Hoa Kỳ", "EU", "Hàn Quốc", "Nhật Bản", "Úc", "Nội địa")
PESTS = (
    "Rầy nâu",
    "Đạo ôn lá",
    "Sâu cuốn lá nhỏ",
    "Bệnh thán thư xoài",
    "Ruồi đục quả",
    "Ốc bươu vàng",
)
PLATFORMS = ("Postmart", "Voso", "Shopee", "Lazada", "Sàn TMĐT Đồng Tháp")
STATUS = ("Hoạt động", "Tạm ngưng", "Đang sửa chữa")

TABLES: dict[str, Table] = {
    "crop_area": Table(
        1200,
        (
            C("crop", *CROPS),
            C("season", *SEASONS),
            N("planted_ha", 5, 100),
            N("harvested_ha", 0, 100),
            R("yield_t_ha", 3.0, 8.5),
        ),
    ),
    "rice_seed": Table(
        60,
        (
            C("variety", "OM5451", "OM18", "ĐTM126", "Đài Thơm 8", "IR50404"),
            R("certified_seed_t", 1, 120),
        ),
    ),
    "fertilizer_use": Table(
        100,
        (C("product", "Urê", "DAP", "NPK 20-20-15", "Kali", "Hữu cơ vi sinh"), R("tonnes", 5, 900)),
    ),
    "pest_outbreak": Table(
        150,
        (
            C("pest", *PESTS),
            C("crop", *CROPS),
            R("infested_ha", 0.5, 250),
            C("severity", "Nhẹ", "Trung bình", "Nặng"),
            R("treated_ha", 0, 200),
        ),
    ),
    "light_trap_summary": Table(
        40,
        (C("species", "Rầy nâu", "Rầy lưng trắng", "Sâu cuốn lá nhỏ"), N("weekly_catch", 0, 60000)),
    ),
    "pesticide_dealer": Table(
        80,
        (
            ID("licence_no", "GCN-BVTV"),
            C("dealer_type", "Đại lý", "Cửa hàng"),
            C("status", *STATUS),
        ),
    ),
    "pesticide_inspection": Table(
        40,
        (ID("inspection_no", "KT-BVTV"), C("result", "Đạt", "Vi phạm"), N("fine_kvnd", 0, 30000)),
    ),
    "plant_quarantine": Table(
        30,
        (
            ID("consignment_no", "KDTV"),
            C("commodity", *CROPS[1:], "Gạo"),
            C("destination", *MARKETS[:-1]),
            R("weight_t", 1, 500),
            C("result", "Đạt", "Xử lý lại", "Không đạt"),
        ),
    ),
    "phyto_certificate": Table(
        30, (ID("certificate_no", "ePhyto"), C("destination", *MARKETS[:-1]), R("weight_t", 1, 500))
    ),
    "production_area_code": Table(
        60,
        (
            ID("area_code", "VN-DTOR"),
            C("crop", *CROPS[1:]),
            R("area_ha", 10, 120),
            C("export_market", *MARKETS),
            C("status", "Còn hiệu lực", "Tạm dừng", "Thu hồi"),
        ),
    ),
    "packing_house": Table(
        15, (ID("packing_code", "VN-DTPH"), C("crop", *CROPS[1:]), R("capacity_t_day", 5, 80))
    ),
    "area_harvest_sale": Table(
        80,
        (
            ID("area_code", "VN-DTOR"),
            C("buyer", "HTX", "Doanh nghiệp xuất khẩu", "Thương lái"),
            R("sold_t", 1, 300),
            N("price_vnd_kg", 8000, 90000),
        ),
    ),
    "livestock_census": Table(500, (C("species", *LIVESTOCK), N("headcount", 50, 60000))),
    "livestock_farm": Table(
        60,
        (
            ID("farm_code", "TRAI"),
            C("species", *LIVESTOCK),
            C("scale", "Nông hộ", "Nhỏ", "Vừa", "Lớn"),
            N("capacity", 100, 20000),
        ),
    ),
    "feed_mill": Table(10, (ID("mill_code", "TACN"), R("output_t", 50, 8000))),
    "disease_report": Table(
        60,
        (
            C("disease", *DISEASES),
            C("species", *LIVESTOCK),
            N("cases", 1, 400),
            N("deaths", 0, 120),
        ),
    ),
    "outbreak_response": Table(
        20, (C("disease", *DISEASES), N("culled", 0, 2000), R("disinfected_ha", 0, 50))
    ),
    "vaccination": Table(
        300, (C("disease", *DISEASES), C("species", *LIVESTOCK), N("doses", 10, 20000))
    ),
    "vaccine_stock": Table(20, (C("vaccine", *DISEASES), N("doses_in_stock", 0, 200000))),
    "animal_movement": Table(
        40,
        (
            ID("permit_no", "KDDV"),
            C("species", *LIVESTOCK),
            N("animals", 10, 3000),
            C("destination", "TP. Hồ Chí Minh", "Cần Thơ", "Long An", "Nội tỉnh"),
        ),
    ),
    "slaughterhouse": Table(
        20, (ID("facility_code", "GM"), C("species", *LIVESTOCK), N("slaughtered", 5, 900))
    ),
    "aquaculture_pond": Table(
        300, (C("species", *FISH), N("ponds", 1, 200), R("area_ha", 0.5, 150))
    ),
    "aquaculture_output": Table(300, (C("species", *FISH), R("output_t", 1, 4000))),
    "hatchery": Table(
        20, (ID("hatchery_code", "SGTS"), C("species", *FISH), N("fry_million", 1, 400))
    ),
    "fishing_vessel": Table(
        40, (ID("registration_no", "TG"), R("length_m", 6, 24), N("power_kw", 20, 600))
    ),
    "fishing_licence": Table(
        30,
        (
            ID("licence_no", "GPKT"),
            C("gear", "Lưới kéo", "Lưới rê", "Câu"),
            C("status", "Còn hạn", "Hết hạn"),
        ),
    ),
    "pangasius_batch": Table(
        40,
        (
            ID("batch_no", "TRA"),
            R("harvest_t", 20, 600),
            C("processor", "Vĩnh Hoàn", "IDI", "Hùng Vương", "Sao Mai"),
        ),
    ),
    "forest_cover": Table(
        30,
        (
            C("forest_type", "Rừng tràm", "Rừng phòng hộ ven biển", "Rừng đặc dụng"),
            R("area_ha", 5, 3000),
            R("cover_pct", 10, 95, amount=False),
        ),
    ),
    "forest_change": Table(
        10, (C("cause", "Trồng mới", "Khai thác", "Cháy", "Chuyển đổi"), R("area_ha", 0.1, 80))
    ),
    "forest_fire_risk": Table(
        12, (C("fire_level", "I", "II", "III", "IV", "V"), R("dryness_index", 0, 10000))
    ),
    "fire_incident": Table(4, (ID("incident_no", "CHAY"), R("burned_ha", 0.1, 40))),
    "irrigation_work": Table(
        80,
        (
            ID("work_code", "CTTL"),
            C("work_type", "Cống", "Trạm bơm", "Đê bao", "Kênh"),
            C("status", *STATUS),
            R("served_ha", 20, 5000),
        ),
    ),
    "gate_operation": Table(
        30,
        (ID("gate_code", "CONG"), C("action", "Mở", "Đóng", "Điều tiết"), R("salinity_ppt", 0, 15)),
    ),
    "pumping_station": Table(
        30, (ID("station_code", "TB"), N("pumps_running", 0, 12), R("hours", 0, 24))
    ),
    "disaster_damage": Table(
        10,
        (
            C("hazard", "Sạt lở bờ sông", "Xâm nhập mặn", "Lốc xoáy", "Ngập lụt"),
            R("damaged_ha", 0, 150),
            N("loss_mvnd", 0, 5000),
        ),
    ),
    "dyke_incident": Table(5, (ID("incident_no", "DE"), R("length_m", 5, 400))),
    "ncd_criteria": Table(
        120,
        (
            N("criteria_met", 10, 19, amount=False),
            C("status", "Nông thôn mới", "NTM nâng cao", "NTM kiểu mẫu", "Chưa đạt"),
        ),
    ),
    "ncd_investment": Table(
        60,
        (
            C("project", "Giao thông nông thôn", "Trường học", "Nước sạch", "Nhà văn hóa"),
            N("budget_mvnd", 100, 30000),
        ),
    ),
    "ocop_product": Table(
        40,
        (
            ID("product_code", "OCOP"),
            C("category", "Thực phẩm", "Đồ uống", "Thảo dược", "Thủ công mỹ nghệ"),
            N("stars", 3, 5, amount=False),
            C("platform", *PLATFORMS),
        ),
    ),
    "ocop_listing": Table(
        40, (ID("product_code", "OCOP"), C("platform", *PLATFORMS), N("orders", 0, 900))
    ),
    "cooperative": Table(
        60, (ID("coop_code", "HTX"), N("members", 7, 800), N("revenue_mvnd", 50, 40000))
    ),
    "cooperative_sales": Table(
        80, (ID("coop_code", "HTX"), C("product", *CROPS, "Cá tra"), R("sold_t", 1, 900))
    ),
    "market_price": Table(
        25,
        (
            C(
                "commodity",
                "Lúa tươi IR50404",
                "Lúa OM18",
                "Xoài cát Hòa Lộc",
                "Cá tra thịt",
                "Heo hơi",
                "Sen hạt",
            ),
            N("price_vnd_kg", 5000, 120000),
        ),
    ),
    "market_bulletin": Table(3, (ID("bulletin_no", "BT"), C("trend", "Tăng", "Giảm", "Ổn định"))),
    "extension_training": Table(
        40,
        (
            C(
                "course",
                "Canh tác lúa giảm phát thải",
                "IPM",
                "VietGAP",
                "Chăn nuôi an toàn sinh học",
            ),
            N("participants", 10, 120),
        ),
    ),
    "demo_model": Table(
        15,
        (
            C("model", "Cánh đồng lớn", "Lúa - tôm", "Xoài VietGAP", "Nuôi cá tra sinh thái"),
            R("area_ha", 1, 100),
        ),
    ),
    "smart_village_service": Table(
        20,
        (
            C("service", "Wifi công cộng", "Camera an ninh", "Cảm biến mặn", "Thanh toán số"),
            N("users", 0, 3000),
        ),
    ),
    "farm_household": Table(40, (N("households", 10, 2000), N("digital_users", 0, 2000))),
    "marketplace_order": Table(
        200,
        (
            ID("order_no", "DH"),
            C("product", *CROPS[1:], "Sản phẩm OCOP"),
            N("amount_kvnd", 20, 20000),
        ),
    ),
    "agricultural_machinery": Table(
        60,
        (
            C("machine", "Máy gặt đập liên hợp", "Máy cấy", "Drone phun thuốc", "Máy sấy"),
            N("units", 0, 400),
        ),
    ),
    "land_use": Table(
        120,
        (
            C(
                "land_type",
                "Đất trồng lúa",
                "Đất trồng cây lâu năm",
                "Đất nuôi trồng thủy sản",
                "Đất lâm nghiệp",
            ),
            R("area_ha", 10, 6000),
        ),
    ),
}
