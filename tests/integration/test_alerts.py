"""The wall's operational alerts: the rules in ``meta.alerts`` against what the demo province
logged, and the notifiers against a local HTTP receiver and a local SMTP server.

The simulator logs every silence it injects (``source_unavailable``: "station silent for N h
from HH:00", "HIS down A..B"), so the silence alerts are checked hour by hour and night by
night against it; the threshold episodes must cover exactly the flagged hours and nights of the
facts, and a water-level episode is judged against its own station's alarm level (the
simulator's register). The notifier test publishes the province's warehouse into a home of its
own and sends its open alerts through a webhook and an e-mail relay, then again (nothing new),
then with the webhook failing (the e-mail is not held up; the webhook gets them on the next
run).
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pytest
from aiosmtpd.controller import Controller

from iochub.alerts import (
    EmailNotifier,
    Notifier,
    WebhookNotifier,
    notify_open_alerts,
    read_alerts,
)
from iochub.publish import publish
from iochub.settings import Settings
from simulator.iot.stations import WATER_SITES

pytestmark = pytest.mark.integration


def _alerts(settings: Settings, rule: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.execute(
            "select subject_code, started_at, ended_at, measure, is_open from meta.alerts "
            "where alert_rule = ? order by all",
            [rule],
        ).fetchall()


def _logged(settings: Settings, source: str) -> list[tuple[str, str]]:
    return duckdb.sql(
        "select record_key, detail from read_parquet(?) "
        "where source = ? and kind = 'source_unavailable'",
        params=[str(settings.sim_dir / "defects.parquet"), source],
    ).fetchall()


def test_station_silence_alerts_match_the_silences_the_province_logged(
    province_warehouse: Settings,
) -> None:
    """Every hour a water station and every night a light trap was silent, and no other."""
    silent_units: set[tuple[str, datetime]] = set()
    for station, started_at, ended_at, measure, _ in _alerts(
        province_warehouse, "iot_station_silent"
    ):
        step = timedelta(days=1) if station.startswith("LT") else timedelta(hours=1)
        assert ended_at is None or ended_at == started_at + step * int(measure)
        silent_units |= {(station, started_at + step * i) for i in range(int(measure))}
    logged_units: set[tuple[str, datetime]] = set()
    for key, detail in _logged(province_warehouse, "iot"):
        station, start = key.split("/")
        first = datetime.strptime(start, "%Y-%m-%dT%H")
        hours = int(re.search(r"silent for (\d+) h", detail).group(1))  # type: ignore[union-attr]
        if station.startswith("LT"):
            logged_units |= {(station, first + timedelta(days=i)) for i in range(hours // 24)}
        else:
            logged_units |= {(station, first + timedelta(hours=i)) for i in range(hours)}
    assert logged_units, "the province logged no station silence"
    assert silent_units == logged_units, (
        f"alerted but not logged: {sorted(silent_units - logged_units)[:10]}; "
        f"logged but not alerted: {sorted(logged_units - silent_units)[:10]}"
    )


def test_his_outages_over_two_days_raise_facility_alerts(province_warehouse: Settings) -> None:
    alerts = _alerts(province_warehouse, "health_facility_not_reporting")
    outages = []
    for facility, detail in _logged(province_warehouse, "xml130"):
        first, last = re.search(r"(\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d)", detail).groups()  # type: ignore[union-attr]
        start, end = date.fromisoformat(first), date.fromisoformat(last)
        if (end - start).days + 1 > 2:
            outages.append((facility, start, end))
    assert outages, "the province logged no HIS outage longer than 2 days"
    for facility, start, end in outages:
        covering = [
            a
            for a in alerts
            if a[0] == facility and a[1].date() <= start and (a[2] is None or a[2].date() > end)
        ]
        assert covering, f"HIS of {facility} down {start}..{end}: no alert covers it"


@pytest.mark.parametrize(
    ("rule", "fact", "flag", "at", "step"),
    [
        ("iot_salinity_breach", "fct_iot_reading_hourly", "is_salinity_alert", "observed_hour", 1),
        (
            "iot_water_level_breach",
            "fct_iot_reading_hourly",
            "is_water_level_alert",
            "observed_hour",
            1,
        ),
        ("iot_insect_density", "fct_insect_trap_nightly", "is_bph_alert", "night_of", 24),
    ],
)
def test_threshold_episodes_cover_exactly_the_flagged_observations(
    province_warehouse: Settings, rule: str, fact: str, flag: str, at: str, step: int
) -> None:
    with duckdb.connect(str(province_warehouse.build_db), read_only=True) as con:
        flagged = {
            (station, when)
            for station, when in con.execute(
                f"select station_code, cast({at} as timestamp) from marts.{fact} where {flag}"
            ).fetchall()
        }
    covered: set[tuple[str, datetime]] = set()
    for station, started_at, ended_at, _, _ in _alerts(province_warehouse, rule):
        last = ended_at or max(when for s, when in flagged if s == station) + timedelta(hours=step)
        hours = int((last - started_at).total_seconds() // 3600)
        covered |= {(station, started_at + timedelta(hours=h)) for h in range(0, hours, step)}
    assert covered == flagged


def test_water_level_alerts_judge_each_station_against_its_own_alarm_level(
    province_warehouse: Settings,
) -> None:
    """The flood season (the province runs June-October) lifts the two flood stations above the
    alarm level I their register rows set; every alert carries its station's own level, and no
    station without one is judged."""
    levels = {
        f"WQ-{i:02d}": alarm
        for i, (*_, alarm) in enumerate(WATER_SITES, start=1)
        if alarm is not None
    }
    with duckdb.connect(str(province_warehouse.build_db), read_only=True) as con:
        alerts = con.execute(
            "select subject_code, threshold, measure from meta.alerts "
            "where alert_rule = 'iot_water_level_breach'"
        ).fetchall()
    assert alerts, "the flood crossed no station's alarm level"
    assert {station for station, _, _ in alerts} <= set(levels)
    for station, threshold, measure in alerts:
        assert threshold == levels[station] and measure > threshold, (station, threshold, measure)


def test_overdue_dossier_alerts_count_each_overdue_dossier_once_in_its_commune(
    province_warehouse: Settings,
) -> None:
    """The simulated one-stop system names a commune office ``UBX-<commune code it sent>`` and
    a department ``SO-<field>``: a commune office's alerts lie in the current communes that code
    resolves to (so the wall's map and a commune leader see them), a department's in none."""
    with duckdb.connect(str(province_warehouse.build_db), read_only=True) as con:
        alerts = con.execute(
            "select subject_code, commune_code, measure, is_open from meta.alerts "
            "where alert_rule = 'dossier_overdue'"
        ).fetchall()
        (overdue,) = con.execute(
            "select count(*) from marts.fct_dossier where is_counted and not is_finished "
            "and due_at < (select max(updated_at) from marts.fct_dossier)"
        ).fetchone()  # type: ignore[misc]
        current = {
            code
            for (code,) in con.execute(
                "select admin_unit_code from marts.dim_admin_unit "
                "where is_current and admin_level = 'commune'"
            ).fetchall()
        }
        targets: dict[str, set[str]] = {}
        for legacy, new in con.execute(
            "select legacy_commune_code, new_commune_code from marts.dim_admin_crosswalk"
        ).fetchall():
            targets.setdefault(legacy, set()).add(new)
    assert overdue > 0, "the province has no overdue dossier to alert on"
    assert all(is_open for *_, is_open in alerts)
    assert sum(int(measure) for _, _, measure, _ in alerts) == overdue
    communes = 0
    for subject, commune, _, _ in alerts:
        unit = subject.split("|")[0]
        if unit.startswith("SO-"):
            assert commune is None, subject
            continue
        sent = unit.removeprefix("UBX-")
        assert commune in (targets.get(sent) or {sent}), (subject, commune)
        assert commune in current
        communes += 1
    assert communes, "no commune office has an overdue dossier"


# --- notifiers -------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        payload = json.loads(self.rfile.read(length))
        if type(self).status == 200:
            type(self).bodies.append(payload)
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def channels() -> Iterator[tuple[type[_Receiver], _Mailbox, str, str]]:
    _Receiver.bodies = []
    _Receiver.status = 200
    http = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    mailbox = _Mailbox()
    # aiosmtpd's controller checks its server by connecting to the port it was given, so it
    # needs a real one: ask the system for a free port first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        yield (
            _Receiver,
            mailbox,
            f"http://127.0.0.1:{http.server_address[1]}/hook",
            f"127.0.0.1:{smtp_port}",
        )
    finally:
        smtp.stop()
        http.shutdown()


def test_open_alerts_are_sent_once_per_channel(
    province_warehouse: Settings,
    tmp_path: Path,
    channels: tuple[type[_Receiver], _Mailbox, str, str],
) -> None:
    receiver, mailbox, url, relay = channels
    settings = dataclasses.replace(province_warehouse, home=tmp_path / "home")
    publish(province_warehouse.build_db, settings.serving_db)
    open_alerts = read_alerts(settings.serving_db)
    assert open_alerts, "the province's warehouse has no open alert to send"

    def notifiers() -> list[Notifier]:
        return [
            WebhookNotifier(url),
            EmailNotifier(relay, "ioc@example.invalid", ("operator@example.invalid",)),
        ]

    first = notify_open_alerts(settings, notifiers())
    assert first.sent == {"webhook": len(open_alerts), "email": len(open_alerts)}
    assert [a["alert_id"] for a in receiver.bodies[0]["alerts"]] == [
        a.alert_id for a in open_alerts
    ]
    mail = message_from_bytes(mailbox.messages[0])
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"{len(open_alerts)} new alerts" in mail["Subject"]
    assert len(body.strip().splitlines()) == len(open_alerts)
    assert open_alerts[0].subject_code in body

    again = notify_open_alerts(settings, notifiers())
    assert again.sent == {"webhook": 0, "email": 0}
    assert len(receiver.bodies) == 1 and len(mailbox.messages) == 1

    (settings.state_dir / "alerts_notified.json").unlink()
    receiver.status = 500
    broken = notify_open_alerts(settings, notifiers())
    assert "webhook" in broken.failed and broken.sent == {"email": len(open_alerts)}
    receiver.status = 200
    mended = notify_open_alerts(settings, notifiers())
    assert mended.sent == {"webhook": len(open_alerts), "email": 0}
    assert len(receiver.bodies) == 2
