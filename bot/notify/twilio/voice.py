"""`TwilioVoice`: the `voice` method, a phone call that reads the page and takes a keypress.

The call carries its TwiML inline (the `Twiml` parameter), so no web request is needed to
say the page; its <Gather> posts the key pressed to `tocsin web`'s /notify/twilio/voice,
with the page's reply code in the query (bot.inbound.twilio acknowledges it).

Exactly once: a Call resource keeps neither its TwiML nor its URL, so `find` cannot read a
mark as the SMS method does. With `KnownCalls` (bot.state.calls) the calls to one number
are made one at a time under its lock, and each page says it is calling before Twilio is
asked and records the call's SID once Twilio answers (or that none was made, when Twilio
refused). A page left pending (its worker died, or Twilio never answered) is settled by
the next holder of the lock once the page's span (`SPAN_S` from when it began, the most a
send can take) is over: a call made in that span that no page recorded can only be its
own (nobody else called meanwhile), so one is its call and none means it made none. No
send begins before every pending span is over (it is retried after), so pages left
pending one after another are told apart by when each began. `find` settles, then answers
the page's recorded call. One case stays uncertain: several unrecorded calls in one span,
which needs Twilio to make a call after our timeout or its clock to be seconds off ours;
it is settled as "no call", so the page calls again: a second call rather than a lost page.
A worker killed mid-call holds the number's lock until it expires (`HOLD_S`): other pages
to that number wait that long.
Without `KnownCalls`, `find` takes the one call to the number since the send began, and
answers None when there are several (two incidents calling the same person then).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

from bot import clock
from bot.notify import Notice
from bot.notify.twilio import words
from bot.notify.twilio.account import TIMEOUT_S, TwilioAccount
from bot.paging import DeliveryError, Undeliverable

VOICE_PATH = "/notify/twilio/voice"
RECENT = 20  # calls to a number looked at by `find`, newest first
SPAN_S = TIMEOUT_S + 2  # a call is made this soon after its send began (whole seconds)
HOLD_S = SPAN_S + 3  # a number's lock outlives one send


class KnownCalls(Protocol):
    """The calls made to each number and the pages they are (bot.state.calls.CallBook)."""

    def calling(self, number: str, hold_s: float) -> AbstractContextManager[bool]: ...

    def begin(self, number: str, page: str) -> None: ...

    def pending(self, number: str) -> dict[str, float]: ...

    def made(self, number: str, page: str, sid: str | None) -> None: ...

    def call_of(self, number: str, page: str) -> str | None: ...

    def known(self, number: str) -> set[str]: ...


def _second_before(ts: float) -> datetime:
    """The whole second before `ts`: Twilio's times are whole seconds, and its clock and
    ours may differ by a little."""
    return datetime.fromtimestamp(int(ts) - 1, UTC)


def page_of(notice: Notice) -> str:
    """The page a call is, across incidents (outbox keys repeat from one to the next)."""
    return f"{notice.incident_id}:{notice.key}"


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
        if self.calls is None:
            return self._call(notice, address)
        with self.calls.calling(address, HOLD_S) as held:
            self._held(held, address)
            self._settle(self.calls, address)
            page = page_of(notice)
            self.calls.begin(address, page)
            try:
                sid = self._call(notice, address)
            except (DeliveryError, Undeliverable) as exc:
                if isinstance(getattr(exc.__cause__, "status", None), int):
                    self.calls.made(address, page, None)  # Twilio answered no: no call made
                raise  # no answer: the call may be made yet, the page stays pending
            self.calls.made(address, page, sid)
        return sid

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        if self.calls is not None:
            with self.calls.calling(address, HOLD_S) as held:
                self._held(held, address)
                self._settle(self.calls, address)
                return self.calls.call_of(address, page_of(notice))
        made = self._calls_since(address, since)
        return made[0][0] if len(made) == 1 else None

    def _call(self, notice: Notice, address: str) -> str:
        twiml = words.call_twiml(notice, self.action_url(notice))
        call = self.account.run(
            lambda c: c.calls.create(to=address, from_=self.account.from_number, twiml=twiml)
        )
        return str(call.sid)

    def _calls_since(self, address: str, since: float) -> list[tuple[str, datetime]]:
        """(SID, when made) of the calls to `address` from this account since `since`,
        newest first (Twilio keeps whole seconds: a second early, to be sure)."""
        listed = self.account.run(
            lambda c: c.calls.list(to=address, from_=self.account.from_number, limit=RECENT)
        )
        after = _second_before(since)
        made = [(str(c.sid), c.date_created) for c in listed if c.date_created]
        return [(sid, at) for sid, at in made if at >= after]

    def _settle(self, calls: KnownCalls, address: str) -> None:
        """Give each page left pending its call, if it made one: the one call no page
        recorded made while that page's send could have lasted. No send begins before the
        spans of those pending are over, so the spans do not overlap."""
        pending = calls.pending(address)
        if not pending:
            return
        wait = max(pending.values()) + SPAN_S - clock.now_ts()
        if wait > 0:  # a send that had no answer from Twilio may still make its call
            raise DeliveryError(f"a call to ...{address[-4:]} may be under way", retry_after=wait)
        known = calls.known(address)
        listed = self._calls_since(address, min(pending.values()))
        unknown = [(sid, at) for sid, at in listed if sid not in known]
        for page, began in pending.items():
            start = _second_before(began)
            end = start + timedelta(seconds=SPAN_S)
            mine = [sid for sid, at in unknown if start <= at <= end]
            calls.made(address, page, mine[0] if len(mine) == 1 else None)

    @staticmethod
    def _held(held: bool, address: str) -> None:
        if not held:
            raise DeliveryError(f"calls to ...{address[-4:]} stayed locked for {HOLD_S:.0f} s")
