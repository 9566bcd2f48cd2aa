"""The payload shapes a source may send, and what a notification changes in its group.

Contracts, written from the documents they follow (not copied from them):
- Alertmanager: Prometheus docs, "Alertmanager configuration", `<webhook_config>` (version 4).
- Grafana: Grafana docs, "Configure webhook notifications", "Webhook JSON payload" (the
  Alertmanager fields plus `orgId`, `state`, `title`, `message`, per-alert `values`,
  `dashboardURL`, `panelURL`, `silenceURL`).
- generic: the shape given in issue 14 ("Alerts in").
"""

from __future__ import annotations

import json

import pytest

from bot.domain.alerts import groups
from bot.domain.alerts.payloads import Alert, PayloadError, parse
from bot.domain.alerts.sources import SourceKind


def _am_alert(fp: str, status: str = "firing", **labels: str) -> dict[str, object]:
    return {
        "status": status,
        "labels": {"alertname": "HighLatency", **labels},
        "annotations": {"summary": "p99 over 2s"},
        "startsAt": "2026-11-27T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom:9090/graph?g0.expr=x",
        "fingerprint": fp,
    }


ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}:{alertname="HighLatency"}',
    "truncatedAlerts": 2,
    "status": "firing",
    "receiver": "tocsin",
    "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [_am_alert("f1", instance="a"), _am_alert("f2", instance="b")],
}
GRAFANA = {
    **ALERTMANAGER,
    "orgId": 1,
    "state": "alerting",
    "title": "[FIRING:2] HighLatency",
    "message": "two instances slow",
    "someFieldAddedLater": {"x": 1},
    "alerts": [
        {
            **_am_alert("g1"),
            "values": {"B": 2.4},
            "valueString": "[ var='B' value=2.4 ]",
            "dashboardURL": "https://grafana/d/abc",
            "panelURL": "https://grafana/d/abc?viewPanel=2",
            "silenceURL": "https://grafana/alerting/silence/new",
        }
    ],
}


def test_alertmanager_v4() -> None:
    note = parse(SourceKind.ALERTMANAGER, json.dumps(ALERTMANAGER).encode())
    assert note.group_key == '{}:{alertname="HighLatency"}'
    assert note.truncated == 2
    assert [a.fingerprint for a in note.alerts] == ["f1", "f2"]
    assert note.alerts[0].links == (("source", "http://prom:9090/graph?g0.expr=x"),)


def test_grafana_extra_fields_and_links_unknown_fields_tolerated() -> None:
    note = parse(SourceKind.GRAFANA, json.dumps(GRAFANA).encode())
    (alert,) = note.alerts
    assert [name for name, _ in alert.links] == ["source", "dashboard", "panel", "silence"]


def test_generic() -> None:
    body = {
        "status": "firing",
        "dedup_key": "db-disk",
        "title": "Disk 95%",
        "severity": "sev2",
        "service": "checkout",
        "description": "db1",
        "source_url": "https://mon/db1",
        "labels": {"host": "db1"},
    }
    (alert,) = parse(SourceKind.GENERIC, json.dumps(body).encode()).alerts
    assert (alert.fingerprint, alert.service, alert.severity) == ("db-disk", "checkout", "sev2")
    assert alert.annotations == {"summary": "Disk 95%", "description": "db1"}


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        (SourceKind.ALERTMANAGER, b"not json", "body"),
        (SourceKind.ALERTMANAGER, b"[]", "body"),
        (SourceKind.ALERTMANAGER, b'{"status": "firing", "alerts": []}', "alerts"),
        (
            SourceKind.GRAFANA,
            b'{"status": "firing", "alerts": [{"status": "x"}]}',
            "alerts[0].status",
        ),
        (
            SourceKind.ALERTMANAGER,
            b'{"status":"firing","alerts":[{"status":"firing","labels":{"a":1}}]}',
            "alerts[0].labels.a",
        ),
        (SourceKind.GENERIC, b'{"status": "firing"}', "dedup_key"),
    ],
)
def test_a_bad_shape_names_its_field(kind: SourceKind, body: bytes, field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse(kind, body)
    assert caught.value.field == field


def _alert(fp: str, status: str = "firing") -> Alert:
    return Alert(fingerprint=fp, status=status, labels={"alertname": "X", "service": "api"})


def test_a_repeat_changes_nothing_and_clearing_and_refiring_are_seen() -> None:
    first = groups.change({}, [_alert("a")])
    assert [a.fingerprint for a in first.fresh] == ["a"]
    assert groups.change(first.statuses, [_alert("a")]).nothing
    joined = groups.change(first.statuses, [_alert("a"), _alert("b")])
    assert [a.fingerprint for a in joined.fresh] == ["b"]
    half = groups.change(joined.statuses, [_alert("a", "resolved")])
    assert not half.cleared
    cleared = groups.change(half.statuses, [_alert("b", "resolved")])
    assert cleared.cleared
    assert groups.change(cleared.statuses, [_alert("b", "resolved")]).nothing  # resent resolved
    assert groups.change(cleared.statuses, [_alert("a")]).refired


def test_title_from_summary_else_alertname_and_key_labels() -> None:
    assert groups.title([Alert("a", "firing", {"alertname": "X"}, {"summary": "Slow"})]) == "Slow"
    assert groups.title([_alert("a")]) == "X (service=api)"
