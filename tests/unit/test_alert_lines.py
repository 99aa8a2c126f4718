"""An open alert as one line of the e-mail the operators receive (iochub.alerts.Alert.line).

Found by running ``make test`` with a source declared but not yet landed: its stale-source alert
has no start and no measure (no good extract to count hours from), and formatting it stopped
every alert from going out.
"""

from __future__ import annotations

from iochub.alerts import Alert

STALE = dict(
    alert_id="source_stale|agri_dk01|-",
    alert_rule="source_stale",
    rule_name="Nguồn dữ liệu không cập nhật (source stale)",
    sector="data",
    severity="critical",
    subject_code="agri_dk01",
    subject_name="Đăng ký trồng trọt (Planting registrations)",
    commune_code=None,
    as_of="2026-12-06 10:00:00",
    measure_unit="giờ từ lần lấy dữ liệu thành công (hours since the last good extract)",
    threshold=24.0,
)


def test_an_alert_line_gives_the_measure_against_the_threshold() -> None:
    alert = Alert(**STALE, started_at="2026-12-05 08:00:00", measure=26.5)  # type: ignore[arg-type]
    assert alert.line() == (
        "[critical] Nguồn dữ liệu không cập nhật (source stale): Đăng ký trồng trọt (Planting "
        "registrations) (agri_dk01) từ (since) 2026-12-05 08:00:00 — 26.5 giờ từ lần lấy dữ liệu "
        "thành công (hours since the last good extract) (ngưỡng/threshold 24)"
    )


def test_a_source_never_landed_is_a_line_without_a_measure() -> None:
    alert = Alert(**STALE, started_at=None, measure=None)  # type: ignore[arg-type]
    assert alert.line() == (
        "[critical] Nguồn dữ liệu không cập nhật (source stale): Đăng ký trồng trọt (Planting "
        "registrations) (agri_dk01) — chưa có (none yet) giờ từ lần lấy dữ liệu thành công "
        "(hours since the last good extract) (ngưỡng/threshold 24)"
    )
