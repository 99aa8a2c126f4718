"""The procedure catalogue (danh mục TTHC) of the simulated province's one-stop-shop system.

Procedure names and fields are the common real ones a province handles (civil status, land,
construction, business registration, …); the ``MaTTHC`` codes, fees, time limits and volumes are
the simulator's own (the real national codes are not bundled offline). Each base procedure exists
at one authority level; commune-level ones are handled by every commune's one-stop desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from simulator.public_services.kpi import add_working_days, next_working_day
from simulator.rng import stream


@dataclass(frozen=True)
class Procedure:
    code: str  # MaTTHC
    name: str  # TenTTHC
    field_code: str  # MaLinhVuc
    field_name: str  # TenLinhVuc
    level: str  # CapThucHien: "tinh" (province) | "xa" (commune)
    online_level: int  # MucDo: 4 full online, 3 partial, 2 information only
    limit_days: int  # ThoiHanGiaiQuyet, in working days (0 = same day)
    fee: int  # LePhi in VND; 0 = no fee
    full_online_eligible: bool  # DuDieuKienToanTrinh
    has_result: bool  # CoKetQua: returns a result document
    complete_content: bool  # CongKhaiDayDu: public content lists every element 766-1.3 needs
    published: date  # NgayCongBo of the publication decision
    weight: float  # relative demand (dossiers per year), the simulator's own
    applicant: int  # main LoaiDoiTuong: 1 citizen, 2 business


# field code, field name, [(procedure name, level, limit, fee, has_result, weight, applicant)]
_FIELDS: list[tuple[str, str, list[tuple[str, str, int, int, bool, float, int]]]] = [
    (
        "HT",
        "Hộ tịch",
        [
            ("Đăng ký khai sinh", "xa", 0, 0, True, 18.0, 1),
            ("Đăng ký khai tử", "xa", 0, 0, True, 5.0, 1),
            ("Đăng ký kết hôn", "xa", 0, 0, True, 4.0, 1),
            ("Cấp bản sao trích lục hộ tịch", "xa", 0, 8_000, True, 6.0, 1),
            ("Cấp giấy xác nhận tình trạng hôn nhân", "xa", 3, 0, True, 5.0, 1),
            ("Đăng ký thay đổi, cải chính hộ tịch", "xa", 3, 15_000, True, 1.5, 1),
        ],
    ),
    (
        "CT",
        "Chứng thực",
        [
            ("Chứng thực bản sao từ bản chính", "xa", 0, 2_000, True, 25.0, 1),
            ("Chứng thực chữ ký trong giấy tờ, văn bản", "xa", 0, 10_000, True, 6.0, 1),
            ("Chứng thực hợp đồng, giao dịch liên quan đến tài sản", "xa", 2, 50_000, True, 3.0, 1),
        ],
    ),
    (
        "DD",
        "Đất đai",
        [
            ("Đăng ký biến động quyền sử dụng đất", "tinh", 10, 100_000, True, 6.0, 1),
            ("Cấp giấy chứng nhận quyền sử dụng đất lần đầu", "tinh", 20, 100_000, True, 2.0, 1),
            ("Cấp đổi giấy chứng nhận quyền sử dụng đất", "tinh", 7, 50_000, True, 2.5, 1),
            ("Xác nhận nguồn gốc đất", "xa", 5, 0, True, 1.0, 1),
        ],
    ),
    (
        "XD",
        "Hoạt động xây dựng",
        [
            ("Cấp giấy phép xây dựng nhà ở riêng lẻ", "xa", 15, 75_000, True, 2.0, 1),
            ("Cấp giấy phép xây dựng công trình", "tinh", 20, 150_000, True, 0.3, 2),
        ],
    ),
    (
        "DN",
        "Thành lập và hoạt động doanh nghiệp",
        [
            ("Đăng ký thành lập doanh nghiệp", "tinh", 3, 50_000, True, 1.2, 2),
            ("Đăng ký thay đổi nội dung đăng ký doanh nghiệp", "tinh", 3, 50_000, True, 1.5, 2),
            ("Đăng ký hộ kinh doanh", "xa", 3, 100_000, True, 2.5, 1),
        ],
    ),
    (
        "BTXH",
        "Bảo trợ xã hội",
        [
            ("Trợ cấp xã hội hằng tháng", "xa", 15, 0, True, 1.5, 1),
            ("Hỗ trợ chi phí mai táng", "xa", 5, 0, False, 0.8, 1),
        ],
    ),
    (
        "GD",
        "Giáo dục và đào tạo",
        [
            ("Cấp bản sao văn bằng, chứng chỉ", "tinh", 2, 0, True, 1.0, 1),
            ("Chuyển trường đối với học sinh", "tinh", 3, 0, False, 0.6, 1),
        ],
    ),
    (
        "YT",
        "Y tế",
        [
            ("Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "tinh", 20, 360_000, True, 0.3, 1),
            (
                "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm",
                "tinh",
                15,
                500_000,
                True,
                0.4,
                2,
            ),
        ],
    ),
    (
        "GT",
        "Đường bộ",
        [
            ("Cấp đổi giấy phép lái xe", "tinh", 5, 135_000, True, 3.0, 1),
        ],
    ),
    (
        "NN",
        "Nông nghiệp",
        [
            ("Cấp mã số vùng trồng", "tinh", 10, 0, True, 0.2, 2),
            (
                "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai",
                "xa",
                10,
                0,
                False,
                0.5,
                1,
            ),
        ],
    ),
    (
        "LDTBXH",
        "Lao động, người có công",
        [
            ("Giải quyết trợ cấp thất nghiệp", "tinh", 20, 0, True, 1.0, 1),
            ("Xác nhận hồ sơ hưởng chế độ người có công", "xa", 5, 0, True, 0.6, 1),
        ],
    ),
]


def load_catalogue(seed: int) -> list[Procedure]:
    """The catalogue, in code order; online levels and flags are drawn once from ``seed``."""
    rng = stream(seed, "public_services", "catalogue")
    out: list[Procedure] = []
    for field_index, (field_code, field_name, items) in enumerate(_FIELDS, start=1):
        for item_index, (name, level, limit, fee, has_result, weight, applicant) in enumerate(
            items, start=1
        ):
            # Most procedures are full online (province_facts: 100% of eligible ones); a few
            # need the applicant in person, so stay partial (3) or information only (2).
            online_level = int(rng.choice([4, 3, 2], p=[0.8, 0.15, 0.05]))
            published = date(2023, 1, 1) + timedelta(days=int(rng.integers(0, 700)))
            out.append(
                Procedure(
                    code=f"1.{field_index:02d}{item_index:04d}",
                    name=name,
                    field_code=field_code,
                    field_name=field_name,
                    level=level,
                    online_level=online_level,
                    limit_days=limit,
                    fee=fee,
                    full_online_eligible=online_level == 4,
                    has_result=has_result,
                    complete_content=bool(rng.random() < 0.95),
                    published=published,
                    weight=weight,
                    applicant=applicant,
                )
            )
    return out


# The elements of a procedure's public content that 766-1.3 asks for (name, steps, channels,
# required documents, time limit, applicant, authority), one flag column each.
CONTENT_ELEMENTS = (
    "CoTenThuTuc",
    "CoTrinhTu",
    "CoCachThuc",
    "CoThanhPhanHoSo",
    "CoThoiHan",
    "CoDoiTuong",
    "CoCoQuan",
)


@dataclass(frozen=True)
class Publication:
    """One publication decision of a procedure (quyết định công bố TTHC) and its publicity.

    The province publishes a procedure when a legal text creating or amending it is issued; the
    decision should come ≥5 working days before the text takes effect (766-1.1) and the
    procedure must be made public on the national procedure database ≤5 working days after
    the decision (766-1.2), with every element of its content (766-1.3).
    """

    key: str  # MaCongBo: decision date + MaTTHC
    code: str  # MaTTHC
    decision_no: str  # SoQuyetDinh
    decided: date  # NgayQuyetDinh
    effective: date  # NgayHieuLucVanBan: the legal text published takes effect
    made_public: date  # NgayCongKhai on the national procedure database
    content: tuple[bool, ...]  # one flag per CONTENT_ELEMENTS

    @property
    def complete(self) -> bool:
        return all(self.content)


def publications(seed: int, catalogue: list[Procedure], until: date) -> list[Publication]:
    """Each procedure's publication decisions up to ``until`` (its first on ``published``, then
    one per amendment every 4–18 months), sorted by decision date and code.

    Each procedure draws from its own stream, in decision order, and stops at the first decision
    after ``until``: a later ``until`` only adds decisions (prefix-stable).
    """
    out: list[Publication] = []
    for p in catalogue:
        rng = stream(seed, "public_services", "publications", p.code)
        decided = next_working_day(p.published)
        first = True
        while decided <= until:
            # About 90% of decisions come ≥5 working days before the text takes effect.
            if rng.random() < 0.9:
                effective = add_working_days(decided, 5 + int(rng.integers(0, 25)))
            else:
                effective = add_working_days(decided, int(rng.integers(0, 5)))
            # About 92% are made public within 5 working days of the decision.
            if rng.random() < 0.92:
                made_public = add_working_days(decided, int(rng.integers(0, 6)))
            else:
                made_public = add_working_days(decided, 6 + int(rng.integers(0, 15)))
            complete = p.complete_content if first else bool(rng.random() < 0.95)
            missing = int(rng.integers(len(CONTENT_ELEMENTS)))
            content = tuple(complete or i != missing for i in range(len(CONTENT_ELEMENTS)))
            out.append(
                Publication(
                    key=f"{decided:%Y%m%d}-{p.code}",
                    code=p.code,
                    decision_no=f"{decided.timetuple().tm_yday}/QĐ-UBND",
                    decided=decided,
                    effective=effective,
                    made_public=made_public,
                    content=content,
                )
            )
            first = False
            decided = next_working_day(decided + timedelta(days=int(rng.integers(120, 541))))
    return sorted(out, key=lambda x: (x.decided, x.code))
