"""Health sector of the demo province: XML 130 inbox and EHR registry, read back independently.

The XML is re-read with ``xml.dom.minidom`` and ``binascii`` (the connector uses ElementTree and
``base64``), the registry with ``sqlite3`` / ``psycopg``; ground truth is recomputed from those
reads and compared with what the generator recorded.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import sqlite3
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from xml.dom import minidom
from xml.parsers.expat import ExpatError

import pandas as pd
import psycopg
import pytest

from simulator.frame import AdminFrame
from simulator.health import SECTOR, months

REORG = date(2025, 7, 1)


def _text(node: minidom.Element | minidom.Document, tag: str) -> str:
    found = node.getElementsByTagName(tag)
    if not found or found[0].firstChild is None:
        return ""
    return "".join(c.data for c in found[0].childNodes if hasattr(c, "data"))


def _read_inbox(root: Path) -> tuple[list[dict], set[str], int]:
    """Readable files as dicts of header + decoded tables; names of unreadable files; HOSO count."""
    files, bad, hoso_total = [], set(), 0
    for path in sorted(root.rglob("*.xml")):
        try:
            doc = minidom.parseString(path.read_bytes())
            hosos = doc.getElementsByTagName("HOSO")
            episodes = []
            for hoso in hosos:
                tables = {}
                for fh in hoso.getElementsByTagName("FILEHOSO"):
                    raw = _text(fh, "NOIDUNGFILE")
                    inner = binascii.a2b_base64(raw, strict_mode=True)
                    tables[_text(fh, "LOAIHOSO")] = minidom.parseString(inner)
                episodes.append(tables)
        except (ExpatError, binascii.Error):
            bad.add(path.name)
            # SOLUONGHOSO sits near the top, so it survives even a truncated file.
            declared = re.search(r"<SOLUONGHOSO>(\d+)<", path.read_text(encoding="utf-8"))
            assert declared is not None
            hoso_total += int(declared.group(1))
            continue
        hoso_total += len(hosos)
        files.append(
            {
                "path": path,
                "facility": _text(doc, "MACSKCB"),
                "ngaylap": _text(doc, "NGAYLAP"),
                "declared": int(_text(doc, "SOLUONGHOSO")),
                "episodes": episodes,
            }
        )
    return files, bad, hoso_total


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run straddling the reorganisation, shared by the tests below."""
    from simulator.context import SimContext
    from simulator.records import DefectLog, GroundTruth

    out = tmp_path_factory.mktemp("health")
    frame = AdminFrame(7)
    ctx = SimContext(
        out=out,
        seed=7,
        scale=0.004,
        start=date(2025, 6, 1),
        end=date(2025, 7, 31),
        defect_rate=0.03,
        frame=frame,
        defects=DefectLog(out / "defects.parquet"),
        truth=GroundTruth(),
    )
    written = SECTOR.generate(ctx)
    ctx.defects.close()
    truth = pd.DataFrame(ctx.truth.rows())
    defects = pd.read_parquet(out / "defects.parquet")
    files, bad, hoso_total = _read_inbox(out / "health" / "xml130" / "inbox")
    return {
        "ctx": ctx,
        "written": written,
        "truth": truth,
        "defects": defects,
        "files": files,
        "bad": bad,
        "hoso": hoso_total,
    }


def test_inbox_path_layout_and_counts(generated: dict) -> None:
    files, bad = generated["files"], generated["bad"]
    written = generated["written"]
    assert written["facilities"] == 165
    assert len(files) + len(bad) == written["xml130_files"] > 500
    assert generated["hoso"] == written["xml130_episodes"]
    for f in files:
        path: Path = f["path"]
        assert path.name == f"GIAMDINHHS_{f['facility']}_{f['ngaylap']}_01.xml"
        assert path.parent.name == f["ngaylap"] and path.parent.parent.name == f["facility"]
        assert f["declared"] == len(f["episodes"]) > 0
    drug_lines = sum(
        len(e["XML2"].getElementsByTagName("CHI_TIET_THUOC")) for f in files for e in f["episodes"]
    )
    assert 0 < drug_lines <= written["xml130_drug_lines"]
    # Unreadable files are exactly the logged file-level defects.
    logged = generated["defects"]
    file_defects = logged[logged.kind.isin(["malformed_xml", "invalid_base64"])]
    assert set(file_defects.record_key) == bad


def test_episode_fields_money_and_residence_codes(generated: dict) -> None:
    defects = generated["defects"]
    by_kind = {k: set(g.record_key) for k, g in defects.groupby("kind")}
    frame: AdminFrame = generated["ctx"].frame
    old_codes = {c.code for c in frame.old_communes}
    new_codes = {c.code for c in frame.new_communes}
    checked = 0
    for f in generated["files"]:
        for e in f["episodes"]:
            x1 = e["XML1"]
            ma_lk = _text(x1, "MA_LK")
            vao = datetime.strptime(_text(x1, "NGAY_VAO"), "%Y%m%d%H%M")
            ra = datetime.strptime(_text(x1, "NGAY_RA"), "%Y%m%d%H%M")
            assert _text(x1, "MA_LOAI_KCB") in {f"{i:02d}" for i in range(1, 10)}
            assert _text(x1, "MA_LOAI_RV") in set("12345")
            assert len(_text(x1, "SO_CCCD")) == 12 and _text(x1, "SO_CCCD")[:3] in {"087", "082"}
            if ra < vao:
                assert ma_lk in by_kind["impossible_date"]
            # Exported on or after discharge (the real discharge: NGAY_TTOAN).
            assert _text(x1, "NGAY_TTOAN")[:8] <= f["ngaylap"]
            lines = [
                int(_text(n, "THANH_TIEN_BV"))
                for table in ("XML2", "XML3")
                for n in e[table].getElementsByTagName(
                    "CHI_TIET_THUOC" if table == "XML2" else "CHI_TIET_DVKT"
                )
            ]
            total = int(_text(x1, "T_TONGCHI_BV"))
            if total < 0:
                assert ma_lk in by_kind["negative_amount"]
            assert abs(total) == sum(lines)
            parts = sum(int(_text(x1, t)) for t in ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC"))
            assert parts == abs(total)
            name = _text(x1, "HO_TEN")
            if name != unicodedata.normalize("NFC", name):
                assert ma_lk in by_kind["nfd_text"]
            commune = _text(x1, "MAXA_CU_TRU")
            if vao.date() < REORG:
                assert commune in old_codes or ma_lk in by_kind["unknown_admin_code"]
                assert _text(x1, "MAHUYEN_CU_TRU") != ""
            elif _text(x1, "MAHUYEN_CU_TRU") == "":
                assert _text(x1, "MATINH_CU_TRU") == "82"
                assert commune in new_codes or ma_lk in by_kind["unknown_admin_code"]
            else:  # old codes (a district is sent) after the change: a system not yet updated
                assert ma_lk in by_kind["outdated_admin_code"]
                assert commune in old_codes or ma_lk in by_kind["unknown_admin_code"]
            checked += 1
    assert checked > 1000


def test_schema_drift_columns_follow_the_upgrade_day(generated: dict) -> None:
    drift = generated["defects"].query("kind == 'schema_drift_added_column'")
    assert len(drift) == drift.record_key.nunique() > 0
    upgraded = {r.record_key: r.day.strftime("%Y%m%d") for r in drift.itertuples()}
    for f in generated["files"]:
        if f["facility"] not in upgraded:
            continue
        has_3176 = bool(f["episodes"][0]["XML1"].getElementsByTagName("NHOM_MAU"))
        assert has_3176 == (f["ngaylap"] >= upgraded[f["facility"]])


def test_referral_certificates_xml13_and_the_3176_rename(generated: dict) -> None:
    """Every referred episode (MA_LOAI_RV 2 or 5) carries XML13 with the layout of its file."""
    defects = generated["defects"]
    added = defects.query("kind == 'schema_drift_added_column'")
    renamed = defects.query("kind == 'schema_drift_rename'")
    # Logged with the added columns: once per facility, on the day of its first 3176 file.
    assert len(renamed) == renamed.record_key.nunique() > 0
    assert dict(zip(renamed.record_key, renamed.day, strict=True)) == dict(
        zip(added.record_key, added.day, strict=True)
    )
    for r in renamed.itertuples():
        assert "MA_NOI_DI → MA_CSKCB_DI" in r.detail and "MA_NOI_DEN → MA_CSKCB_DEN" in r.detail
        assert f"GIAMDINHHS_{r.record_key}_{r.day:%Y%m%d}_01.xml" in r.detail
    layouts: Counter[bool] = Counter()
    for f in generated["files"]:
        for e in f["episodes"]:
            x1 = e["XML1"]
            referred = _text(x1, "MA_LOAI_RV") in {"2", "5"}
            assert ("XML13" in e) == referred
            assert (_text(x1, "MA_NOI_DEN") != "") == referred
            if not referred:
                continue
            x13 = e["XML13"]
            assert x13.documentElement.tagName == "CHI_TIEU_DU_LIEU_GIAY_CHUYEN_TUYEN"
            assert _text(x13, "MA_LK") == _text(x1, "MA_LK")
            is_3176 = bool(x1.getElementsByTagName("NHOM_MAU"))
            source, target = (
                ("MA_CSKCB_DI", "MA_CSKCB_DEN") if is_3176 else ("MA_NOI_DI", "MA_NOI_DEN")
            )
            other = "MA_NOI_DI" if is_3176 else "MA_CSKCB_DI"
            assert not x13.getElementsByTagName(other)
            assert _text(x13, source) == f["facility"] == _text(x13, "MA_CSKCB")
            assert _text(x13, target) == _text(x1, "MA_NOI_DEN") != f["facility"]
            assert _text(x13, "MA_LOAI_RV") == _text(x1, "MA_LOAI_RV")
            assert _text(x13, "MA_BENH_CHINH") == _text(x1, "MA_BENH_CHINH")
            assert _text(x13, "HO_TEN") == _text(x1, "HO_TEN")
            layouts[is_3176] += 1
    assert layouts[True] > 0 and layouts[False] > 0


def test_project_decoder_reads_the_inbox(generated: dict) -> None:
    """The project's own XML 130 decoder lands every readable file, XML13 in both layouts."""
    from connectors.formats.xml130 import Xml130Error, decode_file

    paths = {"XML1": ".", "XML2": "DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC", "XML13": "."}
    referred = certificates = 0
    renamed = set()
    for f in generated["files"]:
        decoded = decode_file(f["path"].read_bytes(), paths)
        assert decoded.facility_code == f["facility"] and decoded.episodes == f["declared"]
        referred += sum(r["MA_LOAI_RV"] in {"2", "5"} for r in decoded.tables["XML1"])
        certificates += len(decoded.tables["XML13"])
        for r in decoded.tables["XML13"]:
            renamed.add("MA_CSKCB_DI" in r)
            assert (r.get("MA_CSKCB_DI") or r.get("MA_NOI_DI")) == f["facility"]
    assert certificates == referred > 0 and renamed == {True, False}
    inbox = generated["ctx"].out / "health" / "xml130" / "inbox"
    for path in sorted(inbox.rglob("*.xml")):
        if path.name in generated["bad"]:
            with pytest.raises(Xml130Error):
                decode_file(path.read_bytes(), paths)


def test_his_outage_window_and_backlog(generated: dict) -> None:
    """A facility whose HIS is down exports nothing in the window, then the backlog, late."""
    defects = generated["defects"]
    late = set(defects.query("kind == 'late_arriving'").record_key)
    windows = defects.query("kind == 'source_unavailable'")
    assert len(windows) == 2  # one per month of the run
    by_day = {(f["facility"], f["ngaylap"]): f for f in generated["files"]}
    written = {(p.parent.parent.name, p.parent.name) for p in generated["ctx"].out.rglob("*.xml")}
    held = 0
    for w in windows.itertuples():
        found = re.search(r"(\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d)", w.detail)
        assert found is not None
        first, until = (date.fromisoformat(found.group(i)) for i in (1, 2))
        assert w.day == first and 2 <= (until - first).days + 1 <= 4
        inside = {
            f"{date.fromordinal(d):%Y%m%d}" for d in range(first.toordinal(), until.toordinal() + 1)
        }
        assert not any((w.record_key, d) in written for d in inside)
        after = f"{date.fromordinal(until.toordinal() + 1):%Y%m%d}"
        assert after in w.detail
        backlog = by_day.get((w.record_key, after))
        for e in backlog["episodes"] if backlog else []:
            paid = _text(e["XML1"], "NGAY_TTOAN")[:8]
            if paid in inside:  # discharged while the HIS was down
                assert _text(e["XML1"], "MA_LK") in late
                held += 1
    assert held > 0


def test_episode_ground_truth_equals_readable_records(generated: dict) -> None:
    frame: AdminFrame = generated["ctx"].frame
    old_codes = {c.code for c in frame.old_communes}
    new_codes = {c.code for c in frame.new_communes}
    seen: set[tuple[str, str]] = set()
    by_commune: Counter[tuple[str, str]] = Counter()
    by_district: Counter[tuple[str, str]] = Counter()
    names: dict[str, set[str]] = {}
    by_province: Counter[str] = Counter()
    for f in generated["files"]:
        for e in f["episodes"]:
            x1 = e["XML1"]
            key = (_text(x1, "MA_CSKCB"), _text(x1, "MA_LK"))
            if key in seen:  # a re-sent episode counts once
                continue
            seen.add(key)
            month = f"{_text(x1, 'NGAY_VAO')[:4]}-{_text(x1, 'NGAY_VAO')[4:6]}"
            by_province[month] += 1
            code = _text(x1, "MAXA_CU_TRU")
            # Old and new code lists overlap: a district code marks the old structure.
            if _text(x1, "MAHUYEN_CU_TRU"):
                new = frame.old(code).new_code if code in old_codes else None
            else:
                new = code if code in new_codes else None
            if new:
                by_commune[(month, new)] += 1
                if month < "2025-07":
                    by_district[(month, _text(x1, "MAHUYEN_CU_TRU"))] += 1
            citizen = _text(x1, "SO_CCCD")
            names.setdefault(citizen, set()).add(unicodedata.normalize("NFC", _text(x1, "HO_TEN")))
    truth = generated["truth"].query("kpi_id == 'OPS-HEALTH-EPISODES'")
    communes = truth.query("admin_level == 'commune'")
    assert {(r.period, r.admin_code): r.numerator for r in communes.itertuples()} == dict(
        by_commune
    )
    assert (communes.denominator == 1).all()
    province = truth.query("admin_level == 'province'")
    assert dict(zip(province.period, province.numerator, strict=True)) == dict(by_province)
    # About 16,400 episodes a day at full scale; June 2025 has 30 days.
    expected = 16_400 * 30 * generated["ctx"].scale
    assert abs(by_province["2025-06"] - expected) / expected < 0.12
    districts = truth.query("admin_level == 'district'")
    assert set(districts.period) == {"2025-06"} and set(districts.structure) == {"legacy"}
    assert {(r.period, r.admin_code): r.numerator for r in districts.itertuples()} == dict(
        by_district
    )
    # One pool of residents: people come back, always under the same name and citizen id.
    assert all(len(v) == 1 for v in names.values())
    assert len(names) < len(seen) * 0.95


def test_registry_yt01_calibration_and_truth(generated: dict) -> None:
    db = sqlite3.connect(generated["ctx"].out / "health" / "ehr_registry.sqlite")
    persons = pd.read_sql("SELECT * FROM persons", db)
    population = pd.read_sql("SELECT * FROM commune_population", db)
    assert len(persons) == generated["written"]["ehr_persons"]
    assert persons.person_id.is_unique and persons.citizen_id.is_unique
    truth = generated["truth"].query("kpi_id == 'YT-01'")
    for period, last in (("2025-06", "2025-06-30"), ("2025-07", "2025-07-31")):
        have = persons[persons.created_on <= last].groupby("residence_new_commune").size()
        residents = population.groupby("new_commune").residents.sum()
        rows = truth.query(f"period == '{period}' and admin_level == 'commune'")
        for r in rows.itertuples():
            assert r.numerator == have.get(r.admin_code, 0)
            assert r.denominator == residents[r.admin_code]
        assert len(rows) == 102
    province = truth.query("admin_level == 'province' and period == '2025-06'").iloc[0]
    assert province.denominator == population.residents.sum()
    # Calibration (province_facts.md): 87% early 2025 plus growth → ~88% mid 2025; the two
    # cities above it; Cao Lãnh city 66% e-medical book, > 40% remote booking.
    assert 0.86 <= province.value <= 0.90
    city = truth.query("admin_level == 'district' and period == '2025-06'").set_index("admin_code")
    assert 0.88 <= city.value["866"] <= 0.95
    assert 0.92 <= city.value["867"] <= 0.98
    cl = persons[persons.residence_old_district == "866"]
    cl_residents = population[population.old_district == "866"].residents.sum()
    assert abs(cl.has_e_medical_book.sum() / cl_residents - 0.66) < 0.06
    assert cl.uses_remote_booking.sum() / cl_residents > 0.36
    for kpi, flag in (
        ("OPS-HEALTH-E-MEDICAL-BOOK", "has_e_medical_book"),
        ("OPS-HEALTH-REMOTE-BOOKING", "uses_remote_booking"),
    ):
        rows = generated["truth"].query(f"kpi_id == '{kpi}'")
        residents = population.groupby("new_commune").residents.sum()
        for period, last in (("2025-06", "2025-06-30"), ("2025-07", "2025-07-31")):
            holders = persons[(persons.created_on <= last) & (persons[flag] == 1)]
            communes = rows.query(f"period == '{period}' and admin_level == 'commune'")
            assert len(communes) == 102
            have = holders.groupby("residence_new_commune").size()
            for r in communes.itertuples():
                assert r.numerator == have.get(r.admin_code, 0)
                assert r.denominator == residents[r.admin_code]
            districts = rows.query(f"period == '{period}' and admin_level == 'district'")
            if period < "2025-07":
                by_district = holders.groupby("residence_old_district").size()
                assert len(districts) == population.old_district.nunique()
                for r in districts.itertuples():
                    assert r.numerator == by_district.get(r.admin_code, 0)
            else:
                assert districts.empty
            province = rows.query(f"period == '{period}' and admin_level == 'province'")
            assert province.numerator.tolist() == [len(holders)]
            assert province.denominator.tolist() == [population.residents.sum()]
        july = rows.query("period == '2025-07' and admin_level == 'province'").value.iloc[0]
        assert 0.2 < july < 0.7
    shots = pd.read_sql("SELECT * FROM immunisations", db)
    assert len(shots) == generated["written"]["ehr_immunisations"] > 0
    assert set(shots.person_id) <= set(persons.person_id)


def test_facilities_yt03_and_reporting_truth(generated: dict) -> None:
    db = sqlite3.connect(generated["ctx"].out / "health" / "ehr_registry.sqlite")
    fac = pd.read_sql("SELECT * FROM facilities", db)
    assert len(fac) == 165 and fac.facility_code.str.fullmatch(r"(87|82)\d{3}").all()
    assert fac.telemedicine.sum() == 22
    assert set(fac.kind) == {"hospital", "district_centre", "commune_station", "private_clinic"}
    truth = generated["truth"]
    yt03 = truth.query("kpi_id == 'YT-03' and admin_level == 'province'").set_index("period")
    assert yt03.numerator["2025-06"] == (fac.cashless_since <= "2025-06-30").sum() == 165
    reporting = {
        (f["facility"], f["ngaylap"][:4] + "-" + f["ngaylap"][4:6]) for f in generated["files"]
    }
    ops = truth.query("kpi_id == 'OPS-HEALTH-FACILITIES-REPORTING' and admin_level == 'province'")
    for r in ops.itertuples():
        assert r.numerator == sum(1 for _, m in reporting if m == r.period)
        assert r.denominator == 165


def test_telemedicine_and_booking_drops(generated: dict) -> None:
    out: Path = generated["ctx"].out / "health"
    sessions = pd.concat(
        pd.read_csv(p, dtype=str) for p in sorted((out / "telemedicine").glob("sessions_*.csv"))
    )
    bookings = pd.concat(
        pd.read_csv(p, dtype=str) for p in sorted((out / "booking").glob("appointments_*.csv"))
    )
    assert sorted(p.name for p in (out / "booking").glob("*.csv")) == [
        "appointments_202506.csv",
        "appointments_202507.csv",
    ]
    db = sqlite3.connect(out / "ehr_registry.sqlite")
    fac = pd.read_sql("SELECT * FROM facilities", db)
    persons = pd.read_sql("SELECT person_id, uses_remote_booking FROM persons", db)
    assert set(sessions.spoke_facility_code) <= set(fac[fac.telemedicine == 1].facility_code)
    assert (
        sessions.session_id.is_unique
        and len(sessions) == generated["written"]["telemedicine_sessions"]
    )
    # Bookers are registry persons who use the app; repeated export rows are logged defects.
    users = set(persons[persons.uses_remote_booking == 1].person_id)
    assert set(bookings.person_id) <= users
    repeated = bookings[bookings.booking_id.duplicated()].booking_id
    logged = generated["defects"].query("source == 'booking_app'")
    assert sorted(repeated) == sorted(logged.record_key)
    distinct = bookings.drop_duplicates("booking_id")
    assert len(distinct) == generated["written"]["booking_appointments"] > 0
    truth = generated["truth"]
    for kpi, frame, col, when in (
        ("OPS-HEALTH-BOOKINGS", distinct, "facility_code", "booked_at"),
        ("OPS-HEALTH-TELEMEDICINE-SESSIONS", sessions, "spoke_facility_code", "started_at"),
    ):
        rows = truth.query(f"kpi_id == '{kpi}' and admin_level == 'province'")
        expected = frame[when].str[:7].value_counts().to_dict()
        assert dict(zip(rows.period, rows.numerator, strict=True)) == expected
        where = frame[col].map(fac.set_index("facility_code").new_commune)
        by_commune = frame.groupby([frame[when].str[:7], where]).size().to_dict()
        communes = truth.query(f"kpi_id == '{kpi}' and admin_level == 'commune' and numerator > 0")
        assert {(r.period, r.admin_code): r.numerator for r in communes.itertuples()} == by_commune


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted([*root.rglob("*.xml"), *root.rglob("*.csv")]):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    db = sqlite3.connect(root / "health" / "ehr_registry.sqlite")
    for line in db.iterdump():
        h.update(line.encode())
    return h.hexdigest()


def test_same_seed_same_bytes(make_ctx, tmp_path: Path) -> None:
    digests = []
    for run in ("a", "b"):
        ctx = make_ctx(
            scale=0.001, start=date(2025, 6, 28), end=date(2025, 7, 3), out=tmp_path / run
        )
        SECTOR.generate(ctx)
        ctx.defects.close()
        digests.append(
            (
                _digest(ctx.out),
                pd.DataFrame(ctx.truth.rows()).to_csv(),
                (ctx.out / "defects.parquet").read_bytes(),
            )
        )
    assert digests[0] == digests[1]
    other = make_ctx(
        scale=0.001, seed=8, start=date(2025, 6, 28), end=date(2025, 7, 3), out=tmp_path / "c"
    )
    SECTOR.generate(other)
    assert _digest(other.out) != digests[0][0]


def test_registry_in_postgresql(make_ctx) -> None:
    ctx = make_ctx(scale=0.0005, start=date(2025, 7, 1), end=date(2025, 7, 2), servers=True)
    if ctx.pg_url is None:
        pytest.skip("PostgreSQL is not reachable")
    written = SECTOR.generate(ctx)
    with psycopg.connect(f"{ctx.pg_url}/{ctx.db_prefix}ehr_registry") as conn:
        persons = conn.execute("SELECT count(*) FROM persons").fetchone()
        facilities = conn.execute("SELECT count(*) FROM facilities WHERE telemedicine").fetchone()
    assert persons is not None and persons[0] == written["ehr_persons"] > 0
    assert facilities is not None and facilities[0] == 22
    assert not (ctx.out / "health" / "ehr_registry.sqlite").exists()


def _readable_episodes(inbox: Path, unreadable: set[str], after: str = "") -> set[str]:
    """MA_LK of the episodes in readable inbox files dated after ``after`` (yyyyMMdd)."""
    found: set[str] = set()
    for path in sorted(inbox.rglob("*.xml")):
        if path.name in unreadable or path.parent.name <= after:
            continue
        text = path.read_text(encoding="utf-8")
        for payload in re.findall(r"XML1</LOAIHOSO>\s*<NOIDUNGFILE>([^<]*)<", text):
            xml1 = binascii.a2b_base64(payload).decode("utf-8")
            found.add(re.search(r"<MA_LK>(\w+)</MA_LK>", xml1).group(1))  # type: ignore[union-attr]
    return found


def test_prefix_stable(make_ctx, tmp_path: Path) -> None:
    """A run to a later end date only adds what happened after the earlier end (``sim advance``).

    Episodes of June first readable after 30 June (long stays, late exports, re-sends) exist at
    this scale, so the one allowed change of June's ground truth is exercised too.
    """
    assert check_prefix(make_ctx, tmp_path, date(2025, 6, 30), date(2025, 7, 20)) > 0


def check_prefix(make_ctx, tmp_path: Path, e1: date, e2: date) -> int:
    """Generate from 1 June 2025 to ``e1`` and to ``e2``; assert the second only adds to the first.

    Inbox files dated up to the earlier end are byte-identical; CSV rows dated up to it are the
    same rows in the same order (a booking whose appointment falls after the earlier end is
    ``booked`` there and shows its outcome later); registry persons created by then are the same
    except ``last_updated``, which may only move past the earlier end; ground truth of the months
    before is the same, except episodes of those months exported (or readable) only after it.
    Returns how many such episodes the later run added.
    """
    runs = {}
    for end in (e1, e2):
        ctx = make_ctx(start=date(2025, 6, 1), end=end, out=tmp_path / end.isoformat())
        SECTOR.generate(ctx)
        ctx.defects.close()
        defects = pd.read_parquet(ctx.out / "defects.parquet")
        runs[end] = (ctx.out / "health", pd.DataFrame(ctx.truth.rows()), defects)
    (short, short_truth, short_defects), (long, long_truth, long_defects) = runs[e1], runs[e2]
    cut = f"{e1:%Y%m%d}"

    inbox_a, inbox_b = short / "xml130" / "inbox", long / "xml130" / "inbox"
    files_a = sorted(p.relative_to(inbox_a) for p in inbox_a.rglob("*.xml"))
    files_b = sorted(p.relative_to(inbox_b) for p in inbox_b.rglob("*.xml"))
    assert files_a and all(p.parent.name <= cut for p in files_a)
    only_one = sorted(set(files_a) ^ {p for p in files_b if p.parent.name <= cut})
    assert not only_one, f"{len(only_one)} inbox files in one run only, first {only_one[0]}"
    assert any(p.parent.name > cut for p in files_b)
    changed = [p for p in files_a if (inbox_a / p).read_bytes() != (inbox_b / p).read_bytes()]
    assert not changed, f"{len(changed)} inbox files differ, first {changed[0]}"

    for folder, when in (("telemedicine", "started_at"), ("booking", "booked_at")):
        for path in sorted((short / folder).glob("*.csv")):
            rows_a = pd.read_csv(path, dtype=str)
            rows_b = pd.read_csv(long / folder / path.name, dtype=str)
            rows_b = rows_b[rows_b[when].str[:10] <= e1.isoformat()].reset_index(drop=True)
            if folder == "booking":
                assert len(rows_a) == len(rows_b), path.name
                later = rows_a.appointment_date > e1.isoformat()
                assert (rows_a.status[later] == "booked").all()
                booked = rows_b.status == "booked"
                assert (booked == (rows_b.appointment_date > e2.isoformat()))[later].all()
                rows_b.loc[later, "status"] = "booked"
            pd.testing.assert_frame_equal(rows_a, rows_b, obj=f"{folder}/{path.name}")

    db_a = sqlite3.connect(short / "ehr_registry.sqlite")
    db_b = sqlite3.connect(long / "ehr_registry.sqlite")
    for table in ("commune_population", "facilities"):
        query = f"SELECT * FROM {table}"
        pd.testing.assert_frame_equal(pd.read_sql(query, db_a), pd.read_sql(query, db_b))
    persons_a = pd.read_sql("SELECT * FROM persons ORDER BY person_id", db_a)
    persons_b = pd.read_sql(
        f"SELECT * FROM persons WHERE created_on <= '{e1}' ORDER BY person_id", db_b
    )
    pd.testing.assert_frame_equal(
        persons_a.drop(columns="last_updated"), persons_b.drop(columns="last_updated")
    )
    moved = persons_a.last_updated != persons_b.last_updated
    assert (persons_b.last_updated[moved] > e1.isoformat()).all()
    assert (persons_b.last_updated <= e2.isoformat()).all()
    shots = (
        "SELECT * FROM immunisations WHERE given_on <= '{}' ORDER BY person_id, vaccine_code, dose"
    )
    shots_a = pd.read_sql(shots.format(e1), db_a)
    shots_b = pd.read_sql(shots.format(e1), db_b)
    shots_b = shots_b[shots_b.person_id.isin(persons_a.person_id)].reset_index(drop=True)
    pd.testing.assert_frame_equal(shots_a, shots_b)

    done = [period for period, last in months(date(2025, 6, 1), e1) if last <= e1]
    keys = ["kpi_id", "period", "admin_level", "admin_code", "structure"]
    june_a = short_truth[short_truth.period.isin(done)].set_index(keys)
    june_b = long_truth[long_truth.period.isin(done)].set_index(keys)
    episodes = "OPS-HEALTH-EPISODES"
    others_a = june_a[june_a.index.get_level_values(0) != episodes].sort_index()
    others_b = june_b[june_b.index.get_level_values(0) != episodes].sort_index()
    pd.testing.assert_frame_equal(others_a, others_b)
    # Episodes admitted in June that only the later run's files after e1 make readable.
    unreadable = {"malformed_xml", "invalid_base64"}
    bad_a = set(short_defects[short_defects.kind.isin(unreadable)].record_key)
    bad_b = set(long_defects[long_defects.kind.isin(unreadable)].record_key)
    seen = _readable_episodes(inbox_a, bad_a)
    added = {
        ma_lk
        for ma_lk in _readable_episodes(inbox_b, bad_b, after=cut) - seen
        if f"20{ma_lk[5:7]}-{ma_lk[7:9]}" in done
    }
    count_a = june_a.xs((episodes, "province"), level=(0, 2)).numerator.sum()
    count_b = june_b.xs((episodes, "province"), level=(0, 2)).numerator.sum()
    assert count_b - count_a == len(added)
    units = june_a.loc[episodes].numerator
    assert (june_b.loc[episodes].numerator.reindex(units.index) >= units).all()
    return len(added)
