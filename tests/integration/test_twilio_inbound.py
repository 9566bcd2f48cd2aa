"""Twilio's inbound webhooks when the store cannot answer: a 5xx (Twilio retries it), never
an answer that claims something was or was not acknowledged."""

from __future__ import annotations

import pytest
import redis
from twilio.request_validator import RequestValidator

from bot.config.settings import Settings
from bot.inbound.twilio import SMS_PATH, TwilioInbound
from bot.runtime import Runtime
from bot.sandbox.ports import free_port
from bot.state.replies import ReplyBook
from bot.state.store import Store

pytestmark = pytest.mark.integration
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "http://tocsin.example"


def test_a_reply_while_redis_is_unreachable_is_a_503(worker_env: dict[str, str]) -> None:
    rt = Runtime.build(Settings.from_env(worker_env), inline_delivery=False)
    gone = redis.Redis(port=free_port(), socket_connect_timeout=0.5, decode_responses=True)
    inbound = TwilioInbound(TOKEN, PUBLIC, ReplyBook(Store(gone)), rt.engine)
    form = {"From": "+4930123456", "Body": "ACK"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + SMS_PATH, form)
    answer = inbound.handle(SMS_PATH, "", form, signature)
    assert answer.status == 503
    assert "retry" in answer.body
