"""Twilio pages in words: replies read, mrkdwn made plain, signatures agreed, config checked."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from bot.config.settings import SettingsError
from bot.inbound.twilio import plain
from bot.notify import Notice
from bot.notify.twilio import TwilioSms, TwilioVoice
from bot.notify.twilio.words import mark, parse_reply, sms_body
from bot.sandbox.twilio_phones import signature

ENV = {
    "TOCSIN_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TOCSIN_TWILIO_AUTH_TOKEN": "token",
    "TOCSIN_TWILIO_FROM": "+15005550006",
}


@pytest.mark.parametrize(
    ("body", "read"),
    [
        ("ACK", (True, None)),
        (" ack. ", (True, None)),
        ("1", (True, None)),
        ("Ack k7", (True, "K7")),
        ("ACK 12-ab", (True, "12-AB")),
        ("acknowledged", (False, None)),
        ("STOP", (False, None)),
        ("11", (False, None)),
        ("ACK this and that", (False, None)),
    ],
)
def test_an_sms_reply_acknowledges_only_as_ack_1_or_ack_code(
    body: str, read: tuple[bool, str | None]
) -> None:
    assert parse_reply(body) == read


def test_an_sms_page_names_the_incident_the_code_and_ends_with_its_mark() -> None:
    notice = Notice(
        "INC-9", "page:INC-9:k", "x" * 300, "sev1", "db", "paged", "U0A", reply_code="Q4"
    )
    body = sms_body(notice)
    assert body.startswith("Tocsin SEV1 INC-9: xxx")
    assert "Reply ACK Q4 to acknowledge." in body
    assert body.endswith(f"[{mark('INC-9', 'page:INC-9:k')}]")
    assert len(body) <= 306  # two concatenated SMS segments
    assert mark("INC-9", "page:INC-9:k") != mark("INC-9", "page:INC-9:l")
    # an outbox key recurs in every incident: the same page of another incident is another mark
    assert mark("INC-9", "page:0:0:U0A|sms") != mark("INC-10", "page:0:0:U0A|sms")


def test_slack_mrkdwn_is_made_plain_for_a_phone() -> None:
    said = "already acknowledged by <@U0ALICE01> in <#C0X|inc-1>: *done* &amp; &lt;ok&gt;"
    assert plain(said) == "already acknowledged by @U0ALICE01 in @inc-1: done & <ok>"


def test_the_sandboxs_signature_is_the_one_twilios_validator_accepts() -> None:
    """Two independent implementations of Twilio's scheme (the sandbox's, the package's)."""
    url = "https://tocsin.example/notify/twilio/voice?code=K7"
    params = {"Digits": "1", "To": "+4930123456", "CallSid": "CA1", "Body": "a b&c"}
    given = signature("secret", url, params)
    assert RequestValidator("secret").validate(url, params, given)
    assert not RequestValidator("other").validate(url, params, given)
    assert not RequestValidator("secret").validate(url, params | {"Digits": "2"}, given)


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"TOCSIN_TWILIO_ACCOUNT_SID": "nope"}, "TOCSIN_TWILIO_ACCOUNT_SID"),
        ({"TOCSIN_TWILIO_AUTH_TOKEN": ""}, "TOCSIN_TWILIO_AUTH_TOKEN"),
        ({"TOCSIN_TWILIO_FROM": "5550006"}, "TOCSIN_TWILIO_FROM"),
        ({"TOCSIN_TWILIO_API_URL": "ftp://x"}, "TOCSIN_TWILIO_API_URL"),
    ],
)
def test_a_half_configured_account_is_an_error_naming_the_variable(
    change: dict[str, str], names: str
) -> None:
    with pytest.raises(SettingsError, match=names):
        TwilioSms.from_env(ENV | change)


def test_voice_needs_the_public_url_its_keypress_goes_to() -> None:
    with pytest.raises(SettingsError, match="TOCSIN_PUBLIC_URL"):
        TwilioVoice.from_env(ENV)
    voice = TwilioVoice.from_env(ENV | {"TOCSIN_PUBLIC_URL": "https://tocsin.example/"})
    assert voice is not None
    notice = Notice("INC-9", "k", "t", "sev1", "db", "paged", "U0A", reply_code="Q4")
    assert voice.action_url(notice) == "https://tocsin.example/notify/twilio/voice?code=Q4"
