"""`tocsin alert send SOURCE --sample alertmanager|grafana|generic [--resolve]`: post a sample
notification to `tocsin web`'s /alerts/<source>, with the credentials alerts.yaml names (read
from the environment, as the web process reads them)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import load_catalog
from bot.config.settings import SettingsError
from bot.domain.alerts.sources import AlertSource

SAMPLES = ("alertmanager", "grafana", "generic")
SAMPLE_URL = "http://127.0.0.1:9090/graph?g0.expr=checkout_errors"


def sample(kind: str, resolve: bool = False) -> dict[str, Any]:
    """A notification of `kind` about one checkout alert (resolved with `resolve`)."""
    status = "resolved" if resolve else "firing"
    if kind == "generic":
        return {
            "status": status,
            "dedup_key": "tocsin-sample-checkout",
            "title": "Checkout error rate above 5% (sample)",
            "severity": "sev2",
            "service": "checkout",
            "description": "a sample alert sent by `tocsin alert send`",
            "source_url": SAMPLE_URL,
            "labels": {"alertname": "CheckoutErrors", "team": "payments"},
        }
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    alert = {
        "status": status,
        "labels": {"alertname": "CheckoutErrors", "team": "payments", "severity": "warning"},
        "annotations": {"summary": "Checkout error rate above 5% (sample)"},
        "startsAt": now,
        "endsAt": now if resolve else "0001-01-01T00:00:00Z",
        "generatorURL": SAMPLE_URL,
        "fingerprint": "5a3b1e0c0ffee001",
    }
    body: dict[str, Any] = {
        "version": "4",
        "groupKey": '{}:{alertname="CheckoutErrors"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "tocsin",
        "groupLabels": {"alertname": "CheckoutErrors"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [alert],
    }
    if kind == "grafana":
        alert |= {"values": {"B": 5.7}, "dashboardURL": "http://127.0.0.1:3001/d/checkout"}
        body |= {"orgId": 1, "state": "alerting", "title": "[FIRING:1] CheckoutErrors"}
    return body


def headers_for(source: AlertSource, body: bytes, env: Mapping[str, str]) -> dict[str, str]:
    """The credentials `source` asks for, from the same variables the web process reads."""
    headers = {"Content-Type": "application/json"}
    for name in filter(None, (source.token_env, source.hmac_secret_env)):
        if not env.get(name):
            raise SettingsError(f"{name} is not set (alerts.yaml names it for {source.name})")
    if source.token_env:
        headers["Authorization"] = f"Bearer {env[source.token_env]}"
    if source.hmac_secret_env:
        secret = env[source.hmac_secret_env].encode()
        signed = body
        if source.timestamp_header:
            stamp = str(int(datetime.now(UTC).timestamp()))
            headers[source.timestamp_header] = stamp
            signed = stamp.encode() + b":" + body
        headers[source.signature_header] = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return headers


def send(url: str, source: AlertSource, body: bytes, env: Mapping[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - the operator's own web process
        f"{url.rstrip('/')}/alerts/{source.name}",
        data=body,
        headers=headers_for(source, body, env),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def run_send(name: str, kind: str, resolve: bool, url: str, config: Path, out: TextIO) -> int:
    source = load_catalog(config).alert_sources.get(name)
    if source is None:
        raise SettingsError(f"no alert source {name!r} in {config}/ (alert_sources:)")
    body = json.dumps(sample(kind, resolve)).encode()
    try:
        status, answer = send(url, source, body, os.environ)
    except OSError as exc:
        raise SettingsError(f"cannot reach {url}: {exc}") from None
    print(f"{status} {answer}", file=out)
    return 0 if status == 202 else 1
