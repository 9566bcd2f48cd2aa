"""The Twilio account pages go out from, its REST client, and its errors sorted.

Configured from the environment; unset TOCSIN_TWILIO_ACCOUNT_SID means no Twilio methods:

    TOCSIN_TWILIO_ACCOUNT_SID   AC…, the account the messages and calls are made on
    TOCSIN_TWILIO_AUTH_TOKEN    its auth token: the REST API's password, and the key
                                every inbound webhook's X-Twilio-Signature is checked with
    TOCSIN_TWILIO_FROM          the Twilio number (E.164) pages come from and replies go to
    TOCSIN_TWILIO_API_URL       another base URL for the REST API (the sandbox's emulator,
                                http://127.0.0.1:8765/twilio); unset means Twilio itself

The twilio package builds every URL on https://api.twilio.com; a subclass of its own
TwilioHttpClient, passed as `http_client` (the package's way to bring a custom client),
moves them onto the base URL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.config.settings import SettingsError
from bot.paging import DeliveryError, Undeliverable

T = TypeVar("T")
TIMEOUT_S = 10.0  # one REST call; a page is retried by the outbox, not by waiting longer

# Twilio error codes that say this number can never take this page (twilio.com/docs/api/errors).
PERMANENT: dict[int, str] = {
    21211: "the phone number is not a valid number",
    21214: "the phone number cannot be reached",
    21217: "the phone number is not a valid number",
    21401: "the phone number is not a valid number",
    21408: "the account may not send to that region",
    21215: "the account may not call that region",
    21610: "the number has replied STOP and takes no more messages",
    21612: "Twilio cannot route a message to that number",
    21614: "the number is not a mobile number and cannot take SMS",
    13224: "the phone number is not a valid number",
}
# Failures of the account, not of one page: every send would fail now.
WIDE_CODES = frozenset({20003, 20005, 20429})  # authenticate, account suspended, too many


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """twilio's own HTTP client, sending to `base_url` instead of https://*.twilio.com, and
    keeping each thread's last answer (for its Retry-After: the package's exception drops
    the headers)."""

    def __init__(self, base_url: str | None, timeout: float = TIMEOUT_S) -> None:
        # twilio logs each request at INFO with its query (phone numbers): warnings only here
        quiet = logging.getLogger(f"{__name__}.http")
        quiet.setLevel(logging.WARNING)
        super().__init__(timeout=timeout, logger=quiet)
        self.base = urlsplit(base_url.rstrip("/")) if base_url else None
        self._last = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base is not None:
            parts = urlsplit(url)
            path = self.base.path + parts.path
            url = urlunsplit((self.base.scheme, self.base.netloc, path, parts.query, ""))
        self._last.response = None
        response: Response = super().request(method, url, *args, **kwargs)
        self._last.response = response
        return response

    def retry_after(self) -> float:
        """Seconds the last answer on this thread asked to wait (Retry-After), else 0."""
        response = getattr(self._last, "response", None)
        value = str((response.headers or {}).get("Retry-After", "")) if response else ""
        return float(value) if value.replace(".", "", 1).isdigit() else 0.0


@dataclass(frozen=True)
class TwilioAccount:
    sid: str
    token: str = field(repr=False)
    from_number: str
    api_url: str | None = None
    http: RebasedHttpClient = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "http", RebasedHttpClient(self.api_url))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwilioAccount | None:
        """The account the environment names; None when TOCSIN_TWILIO_ACCOUNT_SID is unset."""
        sid = env.get("TOCSIN_TWILIO_ACCOUNT_SID", "").strip()
        if not sid:
            return None
        if not (sid.startswith("AC") and len(sid) == 34):
            raise SettingsError("TOCSIN_TWILIO_ACCOUNT_SID is not an account SID (AC and 32 hex)")
        token = env.get("TOCSIN_TWILIO_AUTH_TOKEN", "").strip()
        if not token:
            raise SettingsError("TOCSIN_TWILIO_ACCOUNT_SID is set, TOCSIN_TWILIO_AUTH_TOKEN is not")
        number = env.get("TOCSIN_TWILIO_FROM", "").strip()
        if not (number.startswith("+") and number[1:].isdigit()):
            raise SettingsError("TOCSIN_TWILIO_FROM must be a Twilio number in E.164: +14155550100")
        api_url = env.get("TOCSIN_TWILIO_API_URL", "").strip() or None
        if api_url is not None and not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"TOCSIN_TWILIO_API_URL: {api_url!r} is not an http(s) URL")
        return cls(sid, token, number, api_url)

    @staticmethod
    def public_url(env: Mapping[str, str], needed_for: str) -> str:
        """TOCSIN_PUBLIC_URL, where Twilio reaches `tocsin web`; an error naming what needs it."""
        public = env.get("TOCSIN_PUBLIC_URL", "").strip().rstrip("/")
        if not public.startswith(("http://", "https://")):
            raise SettingsError(
                f"{needed_for} need TOCSIN_PUBLIC_URL, where Twilio reaches tocsin web"
            )
        return public

    def client(self) -> Client:
        """A REST client on this account (no environment read: region and edge stay unset)."""
        return Client(self.sid, self.token, self.sid, http_client=self.http, environment={})

    def run(self, call: Callable[[Client], T]) -> T:
        """`call` on a client of this account, its failure raised as the outbox's kind."""
        try:
            return call(self.client())
        except (requests.RequestException, TwilioException) as exc:
            raise self.failure(exc) from exc

    def failure(self, exc: Exception) -> DeliveryError | Undeliverable:
        """`exc` (raised by a REST call) as the outbox's kind of failure."""
        # An answer: TwilioRestException, or TwilioServiceException for an RFC 9457 body;
        # both carry the HTTP status and Twilio's error code.
        status, code = getattr(exc, "status", None), getattr(exc, "code", None)
        if not isinstance(status, int):  # no answer (a dropped connection, a timeout)
            return DeliveryError(f"Twilio unreachable: {type(exc).__name__}", wide=True)
        code = code if isinstance(code, int) else 0
        if status == 429 or code in WIDE_CODES or status >= 500 or status == 401:
            wait = self.http.retry_after()
            said = f"Twilio answered {status} ({code})"
            return DeliveryError(said, wide=True, retry_after=wait)
        reason = PERMANENT.get(code) or f"Twilio refused it ({status})"
        return Undeliverable(f"twilio_{code or status}", reason)
