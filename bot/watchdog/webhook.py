"""The watchdog's page: a JSON POST signed with HMAC-SHA256, sent from the web process itself.

Headers: `X-Tocsin-Timestamp: <unix seconds>` and `X-Tocsin-Signature: v1=<hex>`, the hex
digest of HMAC-SHA256(TOCSIN_WATCHDOG_SECRET, "v1:<timestamp>:" + body). A receiver recomputes
it, compares in constant time and refuses a timestamp more than 5 minutes old.
`X-Tocsin-Event-Id` (also the body's `id`) is the same for every send of one announcement:
a receiver that keeps the ids it has seen drops a resend.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
from typing import Any

import structlog

from bot.notify.http import host_of
from bot.redaction import redact_text

log = structlog.get_logger(__name__)
TRIES = 3


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def send(
    url: str, secret: str, payload: dict[str, Any], event_id: str, timeout_s: float = 5.0
) -> bool:
    """POST `payload` to `url`, retried TRIES times on a failure; True once it answered 2xx."""
    body = json.dumps(payload, sort_keys=True).encode()
    for attempt in range(1, TRIES + 1):
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - the operator's configured URL
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Tocsin-Timestamp": timestamp,
                "X-Tocsin-Signature": signature(secret, timestamp, body),
                "X-Tocsin-Event-Id": event_id,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310
                if 200 <= answer.status < 300:
                    return True
        except OSError as exc:
            log.warning(
                "watchdog_webhook_failed",
                url=host_of(url),
                attempt=attempt,
                error=redact_text(str(exc)),
            )
        if attempt < TRIES:
            time.sleep(attempt)  # a short back-off before the next try
    return False
