"""Sends the wall's open alerts to the operators' channels after each publish, once each.

The rules live in the warehouse (``meta.alerts``, dbt): this module reads the open ones from
the published ``serving.duckdb`` and hands those a channel has not had yet to each configured
notifier (a webhook receiving JSON, an e-mail through an SMTP relay; more kinds implement
:class:`Notifier`). What each channel was sent is kept per channel in
``state/alerts_notified.json``, so a channel that was down gets the alerts on the next run,
and an alert that closes and opens again (a new ``started_at``) is sent again.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx

from iochub.duckdb_connect import connect_duckdb
from iochub.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    alert_rule: str
    rule_name: str
    sector: str
    severity: str
    subject_code: str
    subject_name: str
    commune_code: str | None
    started_at: str | None
    as_of: str | None
    measure: float | None
    threshold: float | None
    measure_unit: str

    def measure_text(self) -> str:
        # No measure: a source declared but never landed is stale with no last success to count
        # hours from (and no start); it is still an alert, and is shown and sent as one.
        value = f"{self.measure:g}" if self.measure is not None else "chưa có (none yet)"
        return f"{value} {self.measure_unit}"

    def threshold_text(self) -> str:
        return f"{self.threshold:g}" if self.threshold is not None else "-"

    def line(self) -> str:
        since = f" từ (since) {self.started_at}" if self.started_at else ""
        return (
            f"[{self.severity}] {self.rule_name}: {self.subject_name} ({self.subject_code})"
            f"{since} — {self.measure_text()} (ngưỡng/threshold {self.threshold_text()})"
        )


class Notifier(Protocol):
    name: str

    def send(self, alerts: list[Alert]) -> None: ...


@dataclass
class WebhookNotifier:
    """POSTs ``{"source": "iochub", "alerts": [...]}`` as JSON; a non-2xx answer is a failure."""

    url: str
    timeout: float = 10.0
    name: str = "webhook"

    def send(self, alerts: list[Alert]) -> None:
        response = httpx.post(
            self.url,
            json={"source": "iochub", "alerts": [asdict(alert) for alert in alerts]},
            timeout=self.timeout,
        )
        response.raise_for_status()


@dataclass
class EmailNotifier:
    """One message listing the new alerts, through the SMTP relay ``host:port``."""

    relay: str
    sender: str
    recipients: tuple[str, ...]
    name: str = "email"

    def send(self, alerts: list[Alert]) -> None:
        host, _, port = self.relay.rpartition(":")
        message = EmailMessage()
        message["Subject"] = f"[IOC] {len(alerts)} cảnh báo mới ({len(alerts)} new alerts)"
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content("\n".join(alert.line() for alert in alerts) + "\n")
        with smtplib.SMTP(host or "localhost", int(port or 25), timeout=30) as smtp:
            smtp.send_message(message)


def configured_notifiers(settings: Settings) -> list[Notifier]:
    notifiers: list[Notifier] = []
    if settings.alert_webhook_url:
        notifiers.append(WebhookNotifier(settings.alert_webhook_url))
    if settings.alert_smtp:
        if not settings.alert_email_to:
            raise ValueError(
                "IOC_ALERT_SMTP is set but IOC_ALERT_EMAIL_TO is empty: give the recipients "
                "(comma-separated) or unset IOC_ALERT_SMTP"
            )
        notifiers.append(
            EmailNotifier(settings.alert_smtp, settings.alert_email_from, settings.alert_email_to)
        )
    return notifiers


def read_alerts(serving_db: Path, only_open: bool = True) -> list[Alert]:
    """The alerts of the published warehouse, newest first."""
    if not serving_db.exists():
        return []
    with connect_duckdb(str(serving_db), read_only=True) as con:
        rows = con.execute(
            "select alert_id, alert_rule, rule_name, sector, severity, subject_code, subject_name, "
            "commune_code, cast(started_at as varchar), cast(as_of as varchar), measure, "
            "threshold, measure_unit from meta.alerts "
            + ("where is_open " if only_open else "")
            + "order by started_at desc nulls last, alert_id"
        ).fetchall()
    return [Alert(*row) for row in rows]


@dataclass
class NotifyResult:
    open_alerts: int
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def _state_path(settings: Settings) -> Path:
    return settings.state_dir / "alerts_notified.json"


def notify_open_alerts(settings: Settings, notifiers: list[Notifier] | None = None) -> NotifyResult:
    """Send each channel the open alerts it has not had. A failing channel is reported (and
    retried next time) without keeping the others from theirs."""
    channels = configured_notifiers(settings) if notifiers is None else notifiers
    alerts = read_alerts(settings.serving_db)
    result = NotifyResult(open_alerts=len(alerts))
    path = _state_path(settings)
    sent_before: dict[str, list[str]] = json.loads(path.read_text()) if path.exists() else {}
    open_ids = {alert.alert_id for alert in alerts}
    state: dict[str, list[str]] = {}
    for channel in channels:
        already = set(sent_before.get(channel.name, [])) & open_ids
        new = [alert for alert in alerts if alert.alert_id not in already]
        if new:
            try:
                channel.send(new)
            except (OSError, httpx.HTTPError) as exc:
                result.failed[channel.name] = str(exc)
                log.error("alerts: %s failed (%s); retried at the next publish", channel.name, exc)
                state[channel.name] = sorted(already)
                continue
            log.info("alerts: %d new open alert(s) sent by %s", len(new), channel.name)
        result.sent[channel.name] = len(new)
        state[channel.name] = sorted(already | {alert.alert_id for alert in new})
    if channels:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**sent_before, **state}, indent=1))
        os.replace(tmp, path)
    return result
