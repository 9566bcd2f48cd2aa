"""One JSON POST to a provider, and how its answer sorts into done, later and never.

No HTTP client is among the dependencies, and one POST with a timeout needs none: the
standard library's urllib does it. The containment webhook posts through `post` too, and
every log line naming a URL names only `host_of` it.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.paging import DeliveryError, Undeliverable
from bot.redaction import redact_text
from bot.slack_api.pacing import retry_after

READ_LIMIT = 16_384  # bytes of an answer read: providers answer a POST in a few hundred


@dataclass(frozen=True)
class Answer:
    """A provider's answer: its HTTP status (None: no answer at all), body and headers."""

    status: int | None
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


def host_of(url: str) -> str:
    """The URL's scheme and host only: its path or query may carry a key, never logged."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}"


def post(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> Answer:
    """POST `body` to `url` once; a connection error or timeout is an Answer with no status."""
    if not url.startswith(("https://", "http://")):
        return Answer(None, f"not sent: {host_of(url)} is not an http(s) URL")
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310  # scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as got:  # noqa: S310  # scheme checked above
            text = got.read(READ_LIMIT).decode("utf-8", "replace")
            return Answer(got.status, text, dict(got.headers.items()))
    except urllib.error.HTTPError as error:
        text = error.read(READ_LIMIT).decode("utf-8", "replace")
        return Answer(error.code, text, dict(error.headers.items()))
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Answer(None, f"no answer from {host_of(url)}: {redact_text(str(reason))}")


def raise_unless_ok(answer: Answer, what: str, *, wide: bool) -> None:
    """Return when the answer is a 2xx; otherwise raise what the outbox should do with it.

    No answer, a 5xx, 408 (timeout) or 429 (slow down) is worth another try later
    (`DeliveryError`; `wide` when every send to this provider fails alike, so the drain
    stops trying them now); any other 4xx will never succeed as sent (`Undeliverable`)."""
    status = answer.status
    if status is not None and 200 <= status < 300:
        return
    excerpt = " ".join(answer.body.split())[:300]
    if status is None:
        raise DeliveryError(f"{what}: {excerpt}", wide=wide)
    if status == 429:
        raise DeliveryError(f"{what}: 429 rate limited", retry_after=retry_after(answer.headers))
    if status == 408 or status >= 500:
        raise DeliveryError(f"{what}: HTTP {status} {excerpt}", wide=wide and status != 408)
    raise Undeliverable(f"http_{status}", f"{what} refused it: {excerpt or 'no reason given'}")
