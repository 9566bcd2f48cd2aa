"""What a phone does back to the app: Twilio's webhooks, signed as Twilio signs them.

An inbound SMS and a call's <Gather> result reach the app as form-encoded POSTs carrying
`X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the account's auth token, over the
full URL requested followed by every POST parameter's name and value, sorted by name
(twilio.com/docs/usage/webhooks/webhooks-security). Written here on its own, as the sandbox
imports nothing of the product, so the app's check is tested against an independent signer.
TwiML answers are read with the standard library's XML parser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import urlencode, urljoin
from xml.etree import ElementTree

from bot.sandbox.twilio_resources import API, Call

TIMEOUT_S = 10.0


def signature(token: str, url: str, params: dict[str, str]) -> str:
    data = url + "".join(name + params[name] for name in sorted(params))
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def post_signed(
    token: str, url: str, params: dict[str, str], forge: bool = False
) -> tuple[int, str]:
    """POST `params` to `url` signed with `token` (with a wrong key when `forge`): the app's
    HTTP status and body."""
    signed = signature("forged-" + token if forge else token, url, params)
    request = urllib.request.Request(  # noqa: S310 - the app the sandbox was pointed at
        url,
        data=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signed,
            "User-Agent": "TwilioProxy/1.1",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except OSError as exc:
        return 0, f"the app did not answer: {exc}"


def _root(twiml: str) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(twiml)  # noqa: S314 - TwiML from the app under test
    except ElementTree.ParseError:
        return None


def spoken(twiml: str) -> list[str]:
    """What a call's TwiML says (every <Say>, in order)."""
    root = _root(twiml)
    return [" ".join((e.text or "").split()) for e in root.iter("Say")] if root is not None else []


def messages(twiml: str) -> list[str]:
    """The texts a TwiML answer to an SMS sends back (its <Message>s)."""
    root = _root(twiml)
    if root is None:
        return []
    return [" ".join("".join(e.itertext()).split()) for e in root.iter("Message")]


def gather_action(twiml: str, base_url: str | None) -> str | None:
    """Where a call's first <Gather> posts the keys pressed, as an absolute URL."""
    root = _root(twiml)
    gather = root.find(".//Gather") if root is not None else None
    if gather is None:
        return None
    action = gather.get("action") or base_url
    return urljoin(base_url or "", action) if action else None


def _call_params(call: Call, **more: str) -> dict[str, str]:
    """What Twilio posts about an answered outbound call."""
    return {
        "AccountSid": call.account,
        "ApiVersion": API,
        "CallSid": call.sid,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "From": call.from_,
        "To": call.to,
        **more,
    }


def answer(token: str, call: Call, forge: bool = False) -> str | None:
    """The phone picks up `call`: its TwiML, fetched from its Url (POST, signed) unless it
    came inline; None (and the call failed) when the app does not give it."""
    call.started, call.status = call.started or datetime.now(UTC), "in-progress"
    if call.twiml is None and call.url:
        status, text = post_signed(token, call.url, _call_params(call), forge)
        call.twiml = text if status == 200 else None
    if call.twiml is None:
        call.status, call.ended = "failed", datetime.now(UTC)
    return call.twiml


def press(token: str, call: Call, digits: str, forge: bool = False) -> tuple[int, str]:
    """The phone presses `digits` on an answered `call`: its <Gather> action hears of it,
    signed. The app's HTTP status and TwiML; the call is over after."""
    action = gather_action(call.twiml or "", call.url)
    if action is None:
        return 0, "the call's TwiML gathers no keys"
    call.digits = digits
    status, text = post_signed(token, action, _call_params(call, Digits=digits), forge)
    call.status, call.ended = "completed", datetime.now(UTC)
    return status, text
