"""The Twilio methods against the sandbox's Twilio over real HTTP, through the twilio package."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from freezegun import freeze_time

from bot.notify import Notice
from bot.notify.twilio import TwilioSms, TwilioVoice
from bot.notify.twilio.voice import SPAN_S, page_of
from bot.paging import DeliveryError, Undeliverable
from bot.sandbox.emulator import Emulator
from bot.sandbox.twilio_resources import INVALID, NOT_MOBILE
from bot.state import keys
from bot.state.calls import CallBook

ALICE = "+4930123456"


def notice(key: str = "page:INC-1:s0:l0:U0ALICE01:sms", code: str | None = "K7") -> Notice:
    return Notice(
        incident_id="INC-1",
        key=key,
        title="Checkout <errors> & timeouts",
        severity="sev1",
        service="checkout",
        summary="You are paged for INC-1",
        user="U0ALICE01",
        reply_code=code,
    )


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def env(emulator: Emulator) -> dict[str, str]:
    return emulator.twilio.env(emulator.root_url) | {"TOCSIN_PUBLIC_URL": "http://tocsin.test"}


def sms(env: dict[str, str]) -> TwilioSms:
    method = TwilioSms.from_env(env)
    assert method is not None
    return method


def voice(env: dict[str, str], calls: CallBook | None = None) -> TwilioVoice:
    method = TwilioVoice.from_env(env, calls)
    assert method is not None
    return method


def test_without_an_account_there_is_no_twilio_method() -> None:
    assert TwilioSms.from_env({}) is None
    assert TwilioVoice.from_env({}) is None


def test_an_sms_page_lands_on_the_phone_and_is_found_again_after_a_crash(
    emulator: Emulator, env: dict[str, str]
) -> None:
    since = time.time()
    method = sms(env)
    ref = method.send(notice(), ALICE)
    inbox = emulator.twilio.phones()[ALICE]["sms"]
    assert [m["sid"] for m in inbox] == [ref]
    assert "SEV1 INC-1: Checkout <errors> & timeouts (checkout)" in inbox[0]["body"]
    assert "Reply ACK K7 to acknowledge" in inbox[0]["body"]
    # a worker that died after sending asks again, with a new client: the same message
    assert sms(env).find(notice(), ALICE, since) == ref
    assert method.find(notice(key="page:INC-1:s1:l0:U0ALICE01:sms"), ALICE, since) is None
    # the same outbox key in another incident (keys recur in every incident) is another page
    other = dataclasses.replace(notice(), incident_id="INC-2")
    assert method.find(other, ALICE, since) is None
    assert method.find(notice(), "+4930999999", since) is None
    assert method.find(notice(), ALICE, time.time() + 5) is None  # sent before `since`


def test_a_retry_finds_its_send_under_pages_of_later_messages_to_the_number(
    emulator: Emulator, env: dict[str, str]
) -> None:
    """A storm paging one person: 120 later messages to the number (three of `find`'s pages)
    do not hide the crashed send from its retry; a page never sent is still not found."""
    since = time.time()
    method = sms(env)
    crashed = method.send(notice(), ALICE)
    for n in range(120):
        method.send(notice(key=f"page:INC-9:s0:l{n}:U0ALICE01:sms"), ALICE)
    assert sms(env).find(notice(), ALICE, since) == crashed
    newest = notice(key="page:INC-9:s0:l119:U0ALICE01:sms")
    assert sms(env).find(newest, ALICE, since) is not None
    assert sms(env).find(notice(key="page:INC-9:s1:l0:U0ALICE01:sms"), ALICE, since) is None


@pytest.mark.parametrize(
    ("number", "code"), [(INVALID, "twilio_21211"), (NOT_MOBILE, "twilio_21614")]
)
def test_a_number_that_cannot_take_sms_is_undeliverable(
    env: dict[str, str], number: str, code: str
) -> None:
    with pytest.raises(Undeliverable) as refused:
        sms(env).send(notice(), number)
    assert refused.value.code == code
    assert "number" in refused.value.reason


def test_a_5xx_storm_is_a_wide_delivery_error_and_nothing_is_sent(
    emulator: Emulator, env: dict[str, str]
) -> None:
    emulator.twilio.faults.add("503", "messages.create")
    with pytest.raises(DeliveryError) as failed:
        sms(env).send(notice(), ALICE)
    assert failed.value.wide
    assert ALICE not in emulator.twilio.phones()


def test_a_429_says_when_to_retry(emulator: Emulator, env: dict[str, str]) -> None:
    emulator.twilio.faults.add("429", "calls.create", retry_after=7)
    with pytest.raises(DeliveryError) as failed:
        voice(env).send(notice(), ALICE)
    assert failed.value.retry_after == 7.0


def test_a_dropped_connection_after_the_send_is_retried_and_find_sees_the_send(
    emulator: Emulator, env: dict[str, str]
) -> None:
    """Twilio took the message but the answer was lost: the retry's find has it."""
    since = time.time()
    emulator.twilio.faults.add("reset", "messages.create", when="after")
    with pytest.raises(DeliveryError):
        sms(env).send(notice(), ALICE)
    found = sms(env).find(notice(), ALICE, since)
    assert found == emulator.twilio.phones()[ALICE]["sms"][0]["sid"]


def test_a_refused_auth_token_is_wide(env: dict[str, str]) -> None:
    with pytest.raises(DeliveryError) as failed:
        sms(env | {"TOCSIN_TWILIO_AUTH_TOKEN": "wrong"}).send(notice(), ALICE)
    assert failed.value.wide


def test_a_voice_page_reads_the_page_and_gathers_a_key_then_is_found(
    emulator: Emulator, env: dict[str, str]
) -> None:
    since = time.time()
    method = voice(env)
    ref = method.send(notice(), ALICE)
    call = emulator.twilio.phones()[ALICE]["calls"][0]
    assert call["sid"] == ref
    assert any("Checkout <errors> & timeouts" in said for said in call["said"])
    assert "Press 1 to acknowledge." in call["said"]
    assert voice(env).find(notice(), ALICE, since) == ref
    # without the calls known, a second call to the number since then cannot be told apart
    method.send(notice(key="page:INC-2:s0:l0:U0ALICE01:voice"), ALICE)
    assert method.find(notice(), ALICE, since) is None


def span_later() -> Any:
    """Time moved on past a voice send's span (for Tocsin and the emulator alike)."""
    return freeze_time(datetime.now(UTC) + timedelta(seconds=SPAN_S + 1), tick=True)


def test_a_voice_retry_finds_its_own_call_not_another_pages_to_the_same_number(
    emulator: Emulator, env: dict[str, str], r: redis.Redis
) -> None:
    """INC-1 and INC-2 call Alice; INC-1's worker dies after Twilio made its call and before
    recording it (its call is made by a method that records nothing). Until INC-1's send
    could have lasted no other call to Alice begins; then INC-1's retry finds that call,
    not INC-2's, and INC-2's finds its own."""
    book = CallBook(r)
    first = notice(key="page:INC-1:s0:l0:U0ALICE01:voice")
    second = dataclasses.replace(first, incident_id="INC-2")  # the same outbox key
    book.begin(ALICE, page_of(first))
    crashed = voice(env).send(first, ALICE)  # Twilio made it; nobody recorded its SID
    with pytest.raises(DeliveryError) as wait:
        voice(env, book).send(second, ALICE)
    assert 0 < wait.value.retry_after <= SPAN_S
    with span_later():
        other = voice(env, book).send(second, ALICE)
        assert voice(env, book).find(first, ALICE, 0) == crashed
        assert voice(env, book).find(second, ALICE, 0) == other
    assert {c["sid"] for c in emulator.twilio.phones()[ALICE]["calls"]} == {crashed, other}


def test_a_voice_page_that_never_reached_twilio_takes_no_other_pages_call(
    env: dict[str, str], r: redis.Redis
) -> None:
    """INC-1's worker dies after saying it calls Alice and before asking Twilio; INC-2's
    dies once INC-1's span was over, after Twilio made its call and before recording it.
    INC-1's retry finds no call of its own (it calls again; nobody is left out), INC-2's
    finds its call."""
    book = CallBook(r)
    first = notice(key="page:INC-1:s0:l0:U0ALICE01:voice")
    second = dataclasses.replace(first, incident_id="INC-2")
    began = time.time() - SPAN_S - 1
    r.hset(keys.calls(ALICE) + ":pending", page_of(first), began)
    book.begin(ALICE, page_of(second))
    crashed = voice(env).send(second, ALICE)
    with span_later():
        assert voice(env, book).find(first, ALICE, 0) is None
        assert voice(env, book).find(second, ALICE, 0) == crashed


def test_an_invalid_number_cannot_be_called(env: dict[str, str]) -> None:
    with pytest.raises(Undeliverable) as refused:
        voice(env).send(notice(), INVALID)
    assert refused.value.code == "twilio_21217"
