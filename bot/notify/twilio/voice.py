"""`TwilioVoice`: the `voice` method, a phone call that reads the page and takes a keypress.

The call carries its TwiML inline (the `Twiml` parameter), so no web request is needed to
say the page; its <Gather> posts the key pressed to `tocsin web`'s /notify/twilio/voice,
with the page's reply code in the query (bot.inbound.twilio acknowledges it).

Exactly once, as far as can be told: a Call resource keeps neither its TwiML nor its URL,
so `find` cannot read a mark as the SMS method does. Instead every call SID Tocsin learns
is recorded per number (`KnownCalls`: when Twilio answers the create, and when a retry
finds a call as its own), and `find` looks only at the calls to that number made while the
send could have been under way (from `since` to `since` plus the REST timeout) whose SID
no page recorded. One such call is the page's own: a crash between Twilio making it and
the worker recording it leaves it unrecorded. None: the send never reached Twilio.
Several (two pages to one number each crashed mid-send in the same seconds, or another
page's call made and not yet recorded): which is whose cannot be told, `find` answers None
and the page calls again: a second call rather than a lost page. One case is not caught:
a send that never reached Twilio while another page's call to that number was made and not
yet recorded (a few hundred milliseconds, or that page's own crash) takes that call as its
own; the other page then finds nothing of its own and calls again.
Without `KnownCalls` every call in the window counts, so any other page's call makes it
several.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

import structlog

from bot.notify import Notice
from bot.notify.twilio import words
from bot.notify.twilio.account import TIMEOUT_S, TwilioAccount

log = structlog.get_logger(__name__)
VOICE_PATH = "/notify/twilio/voice"
RECENT = 20  # calls to a number looked at by `find`, newest first


class KnownCalls(Protocol):
    """The call SIDs Tocsin knows are pages', per number (bot.state.calls.CallBook)."""

    def record(self, number: str, sid: str) -> None: ...

    def known(self, number: str) -> set[str]: ...


class TwilioVoice:
    name = "voice"

    def __init__(
        self, account: TwilioAccount, public_url: str, calls: KnownCalls | None = None
    ) -> None:
        self.account, self.calls = account, calls
        self.public_url = public_url.rstrip("/")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], calls: KnownCalls | None = None
    ) -> TwilioVoice | None:
        """None without a Twilio account; an error without TOCSIN_PUBLIC_URL, where the
        keypress is sent."""
        account = TwilioAccount.from_env(env)
        if account is None:
            return None
        public = account.public_url(env, "Voice pages (the keypress that acknowledges)")
        return cls(account, public, calls)

    def action_url(self, notice: Notice) -> str:
        query = urlencode({"code": notice.reply_code}) if notice.reply_code else ""
        return self.public_url + VOICE_PATH + (f"?{query}" if query else "")

    def send(self, notice: Notice, address: str) -> str:
        twiml = words.call_twiml(notice, self.action_url(notice))
        call = self.account.run(
            lambda c: c.calls.create(to=address, from_=self.account.from_number, twiml=twiml)
        )
        try:
            self._record(address, str(call.sid))
        except Exception:  # the call is made: unrecorded, another page's retry sees two
            log.warning("call_not_recorded", number_tail=address[-4:])
        return str(call.sid)

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        listed = self.account.run(
            lambda c: c.calls.list(to=address, from_=self.account.from_number, limit=RECENT)
        )
        after = datetime.fromtimestamp(int(since) - 1, UTC)  # Twilio keeps whole seconds
        until = after + timedelta(seconds=TIMEOUT_S + 2)
        known = self.calls.known(address) if self.calls is not None else set()
        made = [
            str(c.sid)
            for c in listed
            if c.date_created is not None and after <= c.date_created <= until
        ]
        unknown = [sid for sid in made if sid not in known]
        if len(unknown) != 1:
            return None
        self._record(address, unknown[0])  # ours now: no other page's retry takes it
        return unknown[0]

    def _record(self, address: str, sid: str) -> None:
        if self.calls is not None:
            self.calls.record(address, sid)
