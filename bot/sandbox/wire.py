"""The wire between Slack and an app's request URL: signed requests, as Slack sends them.

Each request is signed (`X-Slack-Signature: v0=HMAC-SHA256(secret, "v0:{ts}:{body}")` with
`X-Slack-Request-Timestamp`), slash commands are form-encoded, interactivity is a form with
one `payload` field holding JSON, and Events API envelopes are JSON. Retries re-send the
same body re-signed with a new timestamp and add `X-Slack-Retry-Num`/`-Reason`. `Tamper`
forges a signature or ages the timestamp; `replay()` re-sends a request byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.sandbox.view_state import JSON

Kind = Literal["command", "interactive", "event"]
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
_CONTENT_TYPES: dict[Kind, str] = {
    "command": "application/x-www-form-urlencoded",
    "interactive": "application/x-www-form-urlencoded",
    "event": "application/json",
}


@dataclass(frozen=True)
class Tamper:
    """How to spoil one request for a security test."""

    forge_signature: bool = False  # sign with a secret that is not the app's
    age_seconds: int = 0  # claim the request was signed this long ago (> 300 is stale)


@dataclass(frozen=True)
class Sent:
    """One request exactly as it went over the wire."""

    url: str
    kind: Kind
    payload: Mapping[str, Any]
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Result:
    """The bot's answer to one request."""

    status: int
    headers: Mapping[str, str]  # names lower-cased
    text: str
    json: Any
    latency: float  # seconds from sending the request to reading the whole answer
    request: Sent = field(repr=False)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300


class Wire:
    """POSTs signed Slack requests to one request URL and returns what the app answered."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._secret = signing_secret
        self._timeout = timeout
        self._clock = clock
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(
        self, kind: Kind, payload: Mapping[str, Any], *, tamper: Tamper | None = None
    ) -> Result:
        """Encode `payload` as Slack does for `kind`, sign it, and POST it."""
        return self._send(kind, payload, _encode(kind, payload), tamper or Tamper(), {})

    def retry(self, earlier: Result | Sent, num: int = 1, reason: str = "http_timeout") -> Result:
        """Slack's retry `num` of an earlier request: same body, new timestamp and signature."""
        sent = earlier.request if isinstance(earlier, Result) else earlier
        extra = {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}
        return self._send(sent.kind, sent.payload, sent.body, Tamper(), extra)

    def replay(self, earlier: Result | Sent) -> Result:
        """Re-send an earlier request byte for byte, old timestamp and signature included."""
        sent = earlier.request if isinstance(earlier, Result) else earlier
        return self._transmit(sent)

    def _send(
        self, kind: Kind, payload: Mapping[str, Any], body: bytes, tamper: Tamper, extra: JSON
    ) -> Result:
        timestamp = str(int(self._clock()) - tamper.age_seconds)
        secret = "forged-" + self._secret if tamper.forge_signature else self._secret
        headers = {
            "Content-Type": _CONTENT_TYPES[kind],
            "User-Agent": USER_AGENT,
            "Accept": "application/json,*/*",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(secret, timestamp, body),
            **extra,
        }
        return self._transmit(Sent(self.url, kind, payload, body, headers))

    def _transmit(self, sent: Sent) -> Result:
        request = urllib.request.Request(  # noqa: S310  (the URL is the bot under test)
            sent.url, data=sent.body, headers=dict(sent.headers), method="POST"
        )
        started = time.perf_counter()
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status, raw, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, headers = error.code, error.read(), error.headers
        latency = time.perf_counter() - started
        text = raw.decode("utf-8", errors="replace")
        return Result(
            status=status,
            headers={k.lower(): v for k, v in headers.items()},
            text=text,
            json=_maybe_json(text),
            latency=latency,
            request=sent,
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature of `body` sent at `timestamp`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _encode(kind: Kind, payload: Mapping[str, Any]) -> bytes:
    if kind == "command":
        return urllib.parse.urlencode(payload).encode()
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if kind == "interactive":
        return urllib.parse.urlencode({"payload": compact}).encode()
    return compact.encode()


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None
