"""The signed POST of a containment action: timestamped, HMAC-SHA256 signed, with an
idempotency key and a timeout; tried again on a connection error or a 5xx (with backoff),
never on a 4xx. Each attempt is one `bot.notify.http.post`, the POST every outgoing
webhook of Tocsin's makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from bot import clock
from bot.domain.containment import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    backoff,
    retryable,
    signature,
)
from bot.notify.http import post

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Sent:
    """How the POST ended: the last HTTP status (None: no answer), the answer's start or the
    error, and how many attempts it took."""

    status: int | None
    excerpt: str
    attempts: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Webhook:
    """Sends signed POSTs; `attempts` tries at most, sleeping `sleep` between them."""

    attempts: int = 4
    sleep: Callable[[float], None] = time.sleep

    def send(self, url: str, secret: str, body: bytes, key: str, timeout_s: float) -> Sent:
        """POST `body` to `url` signed with `secret`, under idempotency key `key`."""
        sent = Sent(None, "not sent", 0)
        if not url.startswith(("https://", "http://")):
            return Sent(None, "not sent: the webhook URL must start with https:// or http://", 0)
        for attempt in range(1, self.attempts + 1):
            stamp = str(int(clock.now_ts()))  # signed afresh: a receiver may refuse old stamps
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "tocsin-containment",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: signature(secret, stamp, body),
                IDEMPOTENCY_HEADER: key,
            }
            answer = post(url, body, headers, timeout_s)
            sent = Sent(answer.status, answer.body, attempt)
            log.info("containment_webhook_attempt", key=key, attempt=attempt, status=answer.status)
            if not retryable(answer.status) or attempt == self.attempts:
                break
            self.sleep(backoff(attempt))
        return sent
