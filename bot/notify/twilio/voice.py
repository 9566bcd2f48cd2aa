"""`TwilioVoice`: the `voice` method, a phone call that reads the page and takes a keypress.

The call carries its TwiML inline (the `Twiml` parameter), so no web request is needed to
say the page; its <Gather> posts the key pressed to `tocsin web`'s /notify/twilio/voice,
with the page's reply code in the query (bot.inbound.twilio acknowledges it).

Exactly once, as far as Twilio can tell: a Call resource keeps neither its TwiML nor its URL,
so `find` cannot read a mark as the SMS method does. It takes the one call to that number
from ours created since the send began; with several (two incidents calling the same person
in that window) it cannot say which, and answers None: a second call is the safer mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from bot.notify import Notice
from bot.notify.twilio import words
from bot.notify.twilio.account import TwilioAccount

VOICE_PATH = "/notify/twilio/voice"
RECENT = 20  # calls to a number looked at by `find`, newest first


class TwilioVoice:
    name = "voice"

    def __init__(self, account: TwilioAccount, public_url: str) -> None:
        self.account = account
        self.public_url = public_url.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwilioVoice | None:
        """None without a Twilio account; an error without TOCSIN_PUBLIC_URL, where the
        keypress is sent."""
        account = TwilioAccount.from_env(env)
        if account is None:
            return None
        public = account.public_url(env, "Voice pages (the keypress that acknowledges)")
        return cls(account, public)

    def action_url(self, notice: Notice) -> str:
        query = urlencode({"code": notice.reply_code}) if notice.reply_code else ""
        return self.public_url + VOICE_PATH + (f"?{query}" if query else "")

    def send(self, notice: Notice, address: str) -> str:
        twiml = words.call_twiml(notice, self.action_url(notice))
        call = self.account.run(
            lambda c: c.calls.create(to=address, from_=self.account.from_number, twiml=twiml)
        )
        return str(call.sid)

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        listed = self.account.run(
            lambda c: c.calls.list(to=address, from_=self.account.from_number, limit=RECENT)
        )
        after = datetime.fromtimestamp(int(since) - 1, UTC)
        made = [c for c in listed if c.date_created is not None and c.date_created >= after]
        return str(made[0].sid) if len(made) == 1 else None
