"""The three payload shapes a source may send, read into one `Notification`.

- Alertmanager's webhook, version 4: `groupKey`, `status`, `truncatedAlerts` and `alerts[]`
  of `status`, `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`, `fingerprint`
  (Prometheus docs, "Alertmanager configuration", section `<webhook_config>`).
- Grafana Alerting's webhook notifier: the same alert list plus `orgId`, `state`, `title`,
  `message`, and per alert `values`, `dashboardURL`, `panelURL`, `silenceURL` (Grafana docs,
  "Configure webhook notifications", section "Webhook JSON payload"). Unknown fields are
  tolerated, as Grafana adds some between versions.
- generic: `{"status", "dedup_key", "title", "severity", "service", "description",
  "source_url", "labels"}`, one alert per request.

A shape error raises `PayloadError` naming the field (`alerts[2].labels`), for a 400.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.alerts.sources import Heartbeat, SourceKind

FIRING, RESOLVED = "firing", "resolved"
STATUSES = (FIRING, RESOLVED)
MAX_ALERTS = 1000  # per notification; Alertmanager's own cap is the receiver's max_alerts


class PayloadError(ValueError):
    """The body is not the shape its source's kind sends; `field` names where."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    status: str  # firing | resolved
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: str = ""
    links: tuple[tuple[str, str], ...] = ()  # (label, url): the generator, dashboard, silence
    service: str | None = None  # the generic shape's explicit routing
    severity: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "starts_at": self.starts_at,
            "links": [list(link) for link in self.links],
            "service": self.service,
            "severity": self.severity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        return cls(
            fingerprint=data["fingerprint"],
            status=data["status"],
            labels=dict(data["labels"]),
            annotations=dict(data["annotations"]),
            starts_at=data.get("starts_at", ""),
            links=tuple((str(a), str(b)) for a, b in data.get("links", [])),
            service=data.get("service"),
            severity=data.get("severity"),
        )


@dataclass(frozen=True)
class Notification:
    group_key: str  # the sender's group ("" when it has none: the generic shape)
    alerts: tuple[Alert, ...]
    truncated: int = 0  # alerts the sender left out (Alertmanager's max_alerts)


def is_heartbeat(beat: Heartbeat, alert: Alert) -> bool:
    """The source's dead man's switch (it opens no incident of its own)."""
    return alert.labels.get("alertname") == beat.alertname


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PayloadError(where, "expected a JSON object")
    return value


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = False) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise PayloadError(
            f"{where}{key}", "expected a non-empty string" if required else "expected a string"
        )
    return value


def _labels(data: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {}
    given = _mapping(value, f"{where}{key}")
    for name, item in given.items():
        if not isinstance(item, str):
            raise PayloadError(f"{where}{key}.{name}", "expected a string value")
    return dict(given)


def _status(data: Mapping[str, Any], where: str) -> str:
    status = data.get("status")
    if status not in STATUSES:
        raise PayloadError(f"{where}status", "expected 'firing' or 'resolved'")
    return str(status)


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable id for an alert sent without a fingerprint: a hash of its sorted labels."""
    text = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_LINKS = (
    ("generatorURL", "source"),
    ("dashboardURL", "dashboard"),
    ("panelURL", "panel"),
    ("silenceURL", "silence"),
)


def _alert(raw: object, where: str) -> Alert:
    data = _mapping(raw, where)
    labels = _labels(data, "labels", f"{where}.")
    links = tuple(
        (name, url)
        for key, name in _LINKS
        if (url := _text(data, key, f"{where}.")) and url.startswith(("http://", "https://"))
    )
    return Alert(
        fingerprint=_text(data, "fingerprint", f"{where}.") or label_fingerprint(labels),
        status=_status(data, f"{where}."),
        labels=labels,
        annotations=_labels(data, "annotations", f"{where}."),
        starts_at=_text(data, "startsAt", f"{where}."),
        links=links,
    )


def _grouped(data: Mapping[str, Any]) -> Notification:
    """Alertmanager's and Grafana's shape: a group of alerts."""
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts", "expected a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError("alerts", f"more than {MAX_ALERTS} alerts in one notification")
    _status(data, "")
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("truncatedAlerts", "expected a whole number")
    return Notification(
        group_key=_text(data, "groupKey", ""),
        alerts=tuple(_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)),
        truncated=truncated,
    )


def _generic(data: Mapping[str, Any]) -> Notification:
    key = _text(data, "dedup_key", "", required=True)
    title = _text(data, "title", "")
    description = _text(data, "description", "")
    url = _text(data, "source_url", "")
    annotations = {k: v for k, v in (("summary", title), ("description", description)) if v}
    alert = Alert(
        fingerprint=key,
        status=_status(data, ""),
        labels=_labels(data, "labels", ""),
        annotations=annotations,
        links=(("source", url),) if url.startswith(("http://", "https://")) else (),
        service=_text(data, "service", "") or None,
        severity=_text(data, "severity", "") or None,
    )
    return Notification(group_key=key, alerts=(alert,))


def parse(kind: SourceKind, body: bytes) -> Notification:
    """The notification in `body`, sent by a source of `kind`; PayloadError if it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("body", "not JSON") from None
    top = _mapping(data, "body")
    return _generic(top) if kind is SourceKind.GENERIC else _grouped(top)
