"""The sandbox's Twilio on its own: credentials, faults by HTTP, and a call whose TwiML is
fetched from its Url, answered with a keypress, each request signed as Twilio signs them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from twilio.request_validator import RequestValidator

from bot.sandbox.app_server import AppServer
from bot.sandbox.emulator import Emulator

PHONE = "+4930123456"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


def rest(
    emulator: Emulator, name: str, form: dict[str, str], *, sid: str = "", token: str = ""
) -> tuple[int, Any]:
    twilio = emulator.twilio
    account = sid or twilio.account_sid
    basic = b64encode(f"{twilio.account_sid}:{token or twilio.auth_token}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the local emulator
        f"{twilio.env(emulator.root_url)['TOCSIN_TWILIO_API_URL']}/2010-04-01/Accounts/"
        f"{account}/{name}.json",
        data=urlencode(form).encode(),
        headers={"Authorization": f"Basic {basic}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_credentials_are_checked_and_another_account_is_not_found(emulator: Emulator) -> None:
    form = {"To": PHONE, "From": emulator.twilio.number, "Body": "x"}
    assert rest(emulator, "Messages", form, token="wrong")[1]["code"] == 20003
    assert rest(emulator, "Messages", form, sid="AC" + "0" * 32)[1]["code"] == 20404
    assert rest(emulator, "Messages", form)[0] == 201


def test_faults_are_set_over_http_and_answer_as_twilio_does(emulator: Emulator) -> None:
    fault = {"kind": "500", "method": "messages.create", "nth": 1}
    request = urllib.request.Request(  # noqa: S310 - the local emulator
        f"{emulator.root_url}twilio/sandbox/faults",
        data=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert json.load(response)["faults"][0]["kind"] == "500"
    form = {"To": PHONE, "From": emulator.twilio.number, "Body": "x"}
    assert rest(emulator, "Messages", form) == (
        500,
        {
            "code": 20500,
            "message": "An internal server error has occurred",
            "more_info": "https://www.twilio.com/docs/errors/20500",
            "status": 500,
        },
    )
    assert rest(emulator, "Messages", form)[0] == 201  # nth=1 fired once


def test_a_call_fetches_its_twiml_from_its_url_and_a_keypress_reaches_the_gather_action(
    emulator: Emulator,
) -> None:
    """A small app checks every signature with twilio's own validator."""
    heard: list[tuple[str, dict[str, str], bool]] = []
    validator = RequestValidator(emulator.twilio.auth_token)

    def app(environ: dict[str, Any], start: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        url = f"{base}{environ['PATH_INFO']}"
        signed = validator.validate(url, form, environ.get("HTTP_X_TWILIO_SIGNATURE", ""))
        heard.append((environ["PATH_INFO"], form, signed))
        if environ["PATH_INFO"] == "/call":
            body = '<Response><Gather numDigits="1" action="/keys"><Say>Hello</Say></Gather></Response>'
        else:
            body = "<Response><Say>Thanks</Say></Response>"
        start("200 OK", [("Content-Type", "text/xml")])
        return [body.encode()]

    with AppServer(app, path="") as server:
        base = server.url
        form = {"To": PHONE, "From": emulator.twilio.number, "Url": f"{base}/call"}
        status, call = rest(emulator, "Calls", form)
        assert status == 201
        pressed = emulator.twilio.press(call["sid"], "1")
    assert pressed == {"ok": True, "http": 200, "said": ["Thanks"]}
    assert [(path, signed) for path, _, signed in heard] == [("/call", True), ("/keys", True)]
    assert heard[1][1]["Digits"] == "1"
    assert heard[1][1]["To"] == PHONE
    [shown] = emulator.twilio.phones()[PHONE]["calls"]
    assert (shown["status"], shown["said"], shown["digits"]) == ("completed", ["Hello"], "1")
