"""`TwilioSms`: the `sms` method, a page as a text message from the account's number.

Exactly once: each message ends with a mark derived from its incident and outbox key
(words.mark), so a retry after a crash finds an earlier send by listing the messages to that
number from ours and reading the mark, instead of sending again. The list is not filtered
by DateSent on the server: a message still queued at Twilio has no date_sent yet, and that
is exactly the one a crash between sending and recording leaves behind; the creation time is
compared here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from twilio.rest import Client

from bot.notify import Notice
from bot.notify.twilio import words
from bot.notify.twilio.account import TwilioAccount

PAGE = 50  # messages to a number fetched at a time by `find`, newest first


class TwilioSms:
    name = "sms"

    def __init__(self, account: TwilioAccount) -> None:
        self.account = account

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwilioSms | None:
        account = TwilioAccount.from_env(env)
        return cls(account) if account is not None else None

    def send(self, notice: Notice, address: str) -> str:
        body = words.sms_body(notice)
        sent = self.account.run(
            lambda c: c.messages.create(to=address, from_=self.account.from_number, body=body)
        )
        return str(sent.sid)

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        """The earlier send of this page, looked for among the messages to `address` made
        since `since`, newest first, page after page until they are older: however many
        pages the number got meanwhile (a storm paging one person), none is missed."""
        tag = words.mark(notice.incident_id, notice.key)
        after = datetime.fromtimestamp(int(since) - 1, UTC)

        def look(client: Client) -> str | None:
            listed = client.messages.stream(
                to=address, from_=self.account.from_number, page_size=PAGE
            )
            for message in listed:
                created = message.date_created
                if created is not None and created < after:
                    return None  # the rest is older still
                if tag in (message.body or ""):
                    return str(message.sid)
            return None

        return self.account.run(look)
