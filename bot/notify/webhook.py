"""The `webhook` method: a signed JSON POST to a receiver `services.yaml` names.

The body is `{incident_id, key, title, severity, service, summary, user}` (JSON, UTF-8). Headers:

    Content-Type: application/json
    Idempotency-Key: <incident id>:<outbox key>  the same on every retry of one page, and
                                                 no other page's (outbox keys repeat
                                                 across incidents)
    X-Tocsin-Signature: t=<unix seconds>,v1=<hex>

where `<hex>` is HMAC-SHA256(secret, "<t>." + body) in lowercase hex, as Stripe signs
(Slack signs "v0:<t>:<body>" alike). A receiver recomputes it over the raw body, compares in
constant time, refuses a `t` more than 5 minutes from its clock, and keeps the Idempotency-Key
of what it handled: a retry after Tocsin lost the answer then changes nothing. More than one
`v1=` may be listed (a secret being rotated); any one matching is enough (`verify`).

Answers: 2xx delivered; 408, 429, 5xx or no answer retried later (`DeliveryError`); any
other 4xx never (`Undeliverable`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping

import structlog

from bot import clock
from bot.config.outside import load_services
from bot.config.settings import Settings
from bot.domain.services import OutsideServices, WebhookService
from bot.notify import Notice
from bot.notify.configured import named, secret
from bot.notify.http import host_of, post, raise_unless_ok

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Tocsin-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE_S = 300


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Tocsin-Signature value of `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, str(timestamp), body)}"


def verify(
    secret: str, header: str, body: bytes, now: float, tolerance_s: int = TOLERANCE_S
) -> bool:
    """Whether `header` (an X-Tocsin-Signature value) signs `body` with `secret`, made within
    `tolerance_s` of `now`: what a receiver checks."""
    parts = [p.strip().partition("=") for p in header.split(",")]
    stamps = [v for k, _, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance_s:
        return False
    expected = _digest(secret, stamps[0], body)
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, _, v in parts)


class SignedWebhook:
    """POSTs each notice to the webhook `services.yaml` names as the address."""

    name = "webhook"

    def __init__(self, hooks: Mapping[str, WebhookService], env: Mapping[str, str]) -> None:
        self.hooks, self.env = hooks, env

    @classmethod
    def from_env(cls, services: OutsideServices, env: Mapping[str, str]) -> SignedWebhook:
        return cls(services.webhooks, env)

    def send(self, notice: Notice, address: str) -> str:
        """POST `notice` to the webhook named `address`; return its Idempotency-Key, which
        is also how the receiver refers to it."""
        hook = named(self.hooks, address, "webhook")
        key = secret(self.env, hook.secret_env, f"the signing secret of webhook {address!r}")
        body = json.dumps(
            {
                "incident_id": notice.incident_id,
                "key": notice.key,
                "title": notice.title,
                "severity": notice.severity,
                "service": notice.service,
                "summary": notice.summary,
                "user": notice.user,
            },
            sort_keys=True,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tocsin",
            IDEMPOTENCY_HEADER: idempotency_key(notice),
            SIGNATURE_HEADER: signature(key, int(clock.now_ts()), body),
        }
        answer = post(hook.url, body, headers, hook.timeout_s)
        log.info("webhook_sent", webhook=address, host=host_of(hook.url), status=answer.status)
        raise_unless_ok(answer, f"webhook {address!r}", wide=False)
        return idempotency_key(notice)

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        """None: whether a lost POST arrived cannot be asked; the resend carries the same
        Idempotency-Key, so a receiver that keeps those handles the page once."""
        return None


def idempotency_key(notice: Notice) -> str:
    """The page's Idempotency-Key: its incident and outbox key (`2026-11-27-3:page:1:0:...`);
    the outbox key alone is the same for the same step of every incident."""
    return f"{notice.incident_id}:{notice.key}"


def build(settings: Settings, env: Mapping[str, str] | None = None) -> SignedWebhook | None:
    """The `webhook` method for the services.yaml of the config in use, reading secrets from
    `env` (the process's environment by default); None when no webhook service is named."""
    services = load_services(settings.config_in_use)
    if not services.webhooks:
        return None
    return SignedWebhook.from_env(services, os.environ if env is None else env)
