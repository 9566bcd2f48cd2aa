"""The sandbox's Twilio against Twilio's published API description.

twilio_oai_v2010.json is an extract of spec/json/twilio_api_v2010.json in
github.com/twilio/twilio-oai (MIT licence, Copyright (C) 2023 Twilio, Inc.; the exact commit
is in its "source"), made by extract_twilio_oai.py: the Message and Call resources, and the
create and list operations of Messages.json and Calls.json. The error body is not in that
description; its shape ({code, message, more_info, status}) is Twilio's documented one
(twilio.com/docs/usage/twilios-response, "Exceptions").
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.notify import Notice
from bot.notify.twilio import TwilioSms, TwilioVoice
from bot.sandbox.emulator import Emulator
from bot.sandbox.twilio_resources import INVALID

SPEC: dict[str, Any] = json.loads(Path(__file__).with_name("twilio_oai_v2010.json").read_text())
TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}
NOTICE = Notice("INC-1", "page:INC-1:s0:l0:U0A:sms", "Disk full", "sev2", "db", "paged", "U0A")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


def call(
    emulator: Emulator, verb: str, name: str, form: dict[str, str] | None = None, query: str = ""
) -> tuple[int, Any]:
    twilio = emulator.twilio
    url = f"{emulator.root_url}twilio/2010-04-01/Accounts/{twilio.account_sid}/{name}.json"
    credentials = b64encode(f"{twilio.account_sid}:{twilio.auth_token}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the local emulator
        url + (f"?{query}" if query else ""),
        data=urlencode(form).encode() if form is not None else None,
        headers={"Authorization": f"Basic {credentials}"},
        method=verb,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def check_resource(resource: dict[str, Any], schema: dict[str, Any]) -> None:
    """Every field the description names is there, none other, each of its type and form."""
    assert set(resource) == set(schema), set(resource) ^ set(schema)
    for name, rule in schema.items():
        value = resource[name]
        if value is None:
            assert rule.get("nullable"), f"{name} is null but not nullable"
            continue
        assert isinstance(value, TYPES[rule["type"]]), (name, value)
        if "enum" in rule:
            assert value in rule["enum"], (name, value)
        if "pattern" in rule:
            assert re.fullmatch(rule["pattern"], value), (name, value)
        if "minLength" in rule:
            assert rule["minLength"] <= len(value) <= rule["maxLength"], (name, value)
        if rule.get("format") == "date-time-rfc-2822":
            datetime.strptime(value, "%a, %d %b %Y %H:%M:%S %z")
        if rule.get("format") == "phone-number":
            assert re.fullmatch(r"\+[0-9]{8,15}", value), (name, value)


@pytest.mark.parametrize(
    ("name", "operation", "resource", "form"),
    [
        ("Messages", "CreateMessage", "message", {"To": "+4930123456", "Body": "hi"}),
        ("Calls", "CreateCall", "call", {"To": "+4930123456", "Twiml": "<Response/>"}),
    ],
)
def test_created_resources_and_list_pages_have_twilios_shape(
    emulator: Emulator, name: str, operation: str, resource: str, form: dict[str, str]
) -> None:
    create = SPEC[operation]
    form = form | {"From": emulator.twilio.number}
    assert set(form) <= set(create["form"])
    assert set(create["required"]) <= set(form)
    status, created = call(emulator, "POST", name, form)
    assert status == create["status"] == 201
    check_resource(created, SPEC[resource])
    listing = SPEC["List" + operation.removeprefix("Create")]
    status, page = call(emulator, "GET", name, query=urlencode({"To": "+4930123456"}))
    assert status == listing["status"]
    assert set(page) == set(listing["page"])
    for key, kind in listing["page"].items():
        assert page[key] is None or isinstance(page[key], TYPES[kind]), key
    [item] = page[name.lower()]
    check_resource(item, SPEC[resource])
    assert item["sid"] == created["sid"]


def test_list_filters_are_the_described_ones_and_filter(emulator: Emulator) -> None:
    call(emulator, "POST", "Messages", {"To": "+4930123456", "From": "+15005550006", "Body": "a"})
    call(emulator, "POST", "Messages", {"To": "+4930999999", "From": "+15005550006", "Body": "b"})
    today = time.strftime("%Y-%m-%d", time.gmtime())
    query = {"To": "+4930123456", "From": "+15005550006", "DateSent>": today}
    assert set(query) <= set(SPEC["ListMessage"]["query"])
    _, page = call(emulator, "GET", "Messages", query=urlencode(query))
    assert [m["body"] for m in page["messages"]] == ["a"]
    _, page = call(emulator, "GET", "Messages", query=urlencode({"DateSent<": "2001-01-01"}))
    assert page["messages"] == []


def test_errors_have_twilios_error_body(emulator: Emulator) -> None:
    status, body = call(emulator, "POST", "Messages", {"To": INVALID, "From": "+15005550006"})
    assert status == 400
    assert body == {
        "code": 21211,
        "message": f"The 'To' number {INVALID} is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    emulator.twilio.faults.add("429", "calls.list", retry_after=3)
    status, body = call(emulator, "GET", "Calls")
    assert (status, body["code"], body["status"]) == (429, 20429, 429)


def test_what_the_methods_send_is_in_the_description(emulator: Emulator) -> None:
    """The forms and filters the twilio package sends for our methods are all described."""
    env = emulator.twilio.env(emulator.root_url) | {"TOCSIN_PUBLIC_URL": "http://tocsin.test"}
    sms, voice = TwilioSms.from_env(env), TwilioVoice.from_env(env)
    assert sms is not None
    assert voice is not None
    for method in (sms, voice):
        method.send(NOTICE, "+4930123456")
        method.find(NOTICE, "+4930123456", 0.0)
    operations = {
        "messages.create": "CreateMessage",
        "messages.list": "ListMessage",
        "calls.create": "CreateCall",
        "calls.list": "ListCall",
    }
    seen = set()
    for logged in emulator.twilio.log:
        operation = SPEC[operations[logged["method"]]]
        seen.add(logged["method"])
        assert set(logged["form"]) <= set(operation.get("form", [])), logged
        assert set(operation.get("required", [])) <= set(logged["form"]), logged
        assert set(logged["query"]) <= set(operation["query"]), logged
    assert seen == set(operations)
