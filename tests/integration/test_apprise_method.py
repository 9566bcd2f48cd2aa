"""The apprise method against a real local HTTP server: the notice arrives with its text."""

from __future__ import annotations

import json
import logging

import pytest

from bot.notify import Notice
from bot.notify.apprise import AppriseMethod
from bot.paging import DeliveryError, Undeliverable
from bot.sandbox.stack import free_port
from tests.receiver import Receiver

NOTICE = Notice(
    incident_id="20260101-7",
    key="page:0:0:U0ALICE01:apprise",
    title="Checkout <errors> & timeouts",
    severity="sev1",
    service="checkout",
    summary="You are paged for SEV1 20260101-7; acknowledge in Slack or by the link.",
    user="U0ALICE01",
    ack_url="http://tocsin.example.com/notify/ack/abc.def",
)


def test_a_json_webhook_receives_the_page_with_its_text(receiver: Receiver) -> None:
    address = receiver.url.replace("http://", "json://") + "/hooks/alice"
    ref = AppriseMethod().send(NOTICE, address)
    assert ref == "apprise:json"
    [arrived] = [r for r in receiver.requests if r.path == "/hooks/alice"]
    sent = json.loads(arrived.body)
    assert sent["title"] == "SEV1 20260101-7 · Checkout <errors> & timeouts"
    assert NOTICE.summary in sent["message"]
    assert "Acknowledge: http://tocsin.example.com/notify/ack/abc.def" in sent["message"]
    assert AppriseMethod().find(NOTICE, address, 0.0) is None  # one-way: it cannot tell


def test_an_ntfy_topic_receives_the_page(receiver: Receiver) -> None:
    address = receiver.url.replace("http://", "ntfy://") + "/alice-oncall"
    AppriseMethod().send(NOTICE, address)
    [arrived] = [r for r in receiver.requests if r.method == "POST"]
    sent = json.loads(arrived.body)  # ntfy's publish-as-JSON: the topic in the body
    assert sent["topic"] == "alice-oncall"
    assert sent["title"] == "SEV1 20260101-7 · Checkout <errors> & timeouts"
    assert sent["message"].startswith(NOTICE.summary)


def test_a_service_that_cannot_be_reached_is_worth_retrying() -> None:
    closed = f"json://127.0.0.1:{free_port()}/hooks/alice"  # nobody listens there
    with pytest.raises(DeliveryError, match="json://") as caught:
        AppriseMethod().send(NOTICE, closed)
    assert "hooks/alice" not in str(caught.value)  # the URL (a service's token) is not repeated


def test_an_address_apprise_cannot_parse_is_undeliverable(caplog: pytest.LogCaptureFixture) -> None:
    """Undeliverable, and neither the error nor Apprise's own log lines repeat the URL's token."""
    caplog.set_level(logging.DEBUG)
    method = AppriseMethod()
    with pytest.raises(Undeliverable) as caught:
        method.send(NOTICE, "nosuchservice://token-123@somewhere")
    assert caught.value.code == "bad_apprise_url"
    assert "token-123" not in str(caught.value)
    assert "token-123" not in caplog.text
