"""The webhook method over real HTTP to a local receiver: the body, a signature the receiver
can check, the incident and outbox key as Idempotency-Key; and how each answer sorts."""

from __future__ import annotations

import json
import time

import pytest

from bot.domain.services import OutsideServices, WebhookService
from bot.notify import Notice
from bot.notify.webhook import SignedWebhook, signature, verify
from bot.paging import DeliveryError, Undeliverable
from tests.receiver import Receiver

SECRET = "audit-secret"
NOTICE = Notice(
    incident_id="2026-11-27-3",
    key="2026-11-27-3|0|0|webhook:audit|webhook",
    title="Checkout <errors> & more",
    severity="sev2",
    service="checkout",
    summary="SEV2 Checkout errors",
)


def method(receiver: Receiver, env: dict[str, str] | None = None) -> SignedWebhook:
    hook = WebhookService("audit", receiver.url + "/hook", "TOCSIN_WEBHOOK_AUDIT_SECRET", 5.0)
    services = OutsideServices(webhooks={"audit": hook})
    given = {"TOCSIN_WEBHOOK_AUDIT_SECRET": SECRET} if env is None else env
    return SignedWebhook.from_env(services, given)


class TestSignedWebhook:
    def test_the_receiver_gets_the_notice_signed_under_the_outbox_key(
        self, receiver: Receiver
    ) -> None:
        """The POST carries the notice's fields, a t=,v1= signature that checks, and the key."""
        assert method(receiver).send(NOTICE, "audit") == f"2026-11-27-3:{NOTICE.key}"
        [got] = receiver.requests
        assert (got.method, got.path) == ("POST", "/hook")
        assert json.loads(got.body) == {
            "incident_id": "2026-11-27-3",
            "key": NOTICE.key,
            "title": "Checkout <errors> & more",
            "severity": "sev2",
            "service": "checkout",
            "summary": "SEV2 Checkout errors",
            "user": None,
        }
        assert got.headers["Idempotency-Key"] == f"2026-11-27-3:{NOTICE.key}"
        header = got.headers["X-Tocsin-Signature"]
        assert verify(SECRET, header, got.body, time.time())
        assert not verify("another-secret", header, got.body, time.time())
        assert not verify(SECRET, header, got.body + b" ", time.time())
        assert not verify(SECRET, header, got.body, time.time() + 600)  # a replay, too late

    def test_a_retry_carries_the_same_idempotency_key(self, receiver: Receiver) -> None:
        """A 503 is worth a retry; the retry is signed afresh under the same key."""
        receiver.statuses.append(503)
        hooks = method(receiver)
        with pytest.raises(DeliveryError) as later:
            hooks.send(NOTICE, "audit")
        assert not later.value.wide  # another webhook's URL may be fine
        hooks.send(NOTICE, "audit")
        keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
        assert keys == [f"2026-11-27-3:{NOTICE.key}"] * 2

    @pytest.mark.parametrize("status", [408, 429, 500, 502])
    def test_timeouts_limits_and_server_errors_are_retried(
        self, receiver: Receiver, status: int
    ) -> None:
        receiver.statuses.append(status)
        with pytest.raises(DeliveryError):
            method(receiver).send(NOTICE, "audit")

    @pytest.mark.parametrize("status", [400, 401, 404, 410])
    def test_other_client_errors_never_succeed(self, receiver: Receiver, status: int) -> None:
        receiver.statuses.append(status)
        with pytest.raises(Undeliverable) as refused:
            method(receiver).send(NOTICE, "audit")
        assert refused.value.code == f"http_{status}"

    def test_an_unset_secret_names_its_variable_and_sends_nothing(self, receiver: Receiver) -> None:
        with pytest.raises(Undeliverable, match="TOCSIN_WEBHOOK_AUDIT_SECRET is not set"):
            method(receiver, env={}).send(NOTICE, "audit")
        assert receiver.requests == []

    def test_a_rotated_secret_may_be_listed_beside_the_new_one(self) -> None:
        """A receiver accepts a header listing several v1= signatures when any one checks."""
        body, now = b'{"a":1}', int(time.time())
        old = signature("old", now, body).split(",")[1]
        assert verify("new", f"{signature('new', now, body)},{old}", body, now)
        assert not verify("new", f"t={now},{old}", body, now)
