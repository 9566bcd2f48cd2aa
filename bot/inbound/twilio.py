"""Twilio's webhooks: an SMS reply ("ACK", "1", "ACK <code>") or a keypress acknowledges.

    POST /notify/twilio/sms     an inbound message to the account's number
    POST /notify/twilio/voice   the <Gather> of a voice page: the key pressed (1 acknowledges)

Every request must carry a valid X-Twilio-Signature: HMAC-SHA1, keyed with the account's
auth token, over the URL Twilio requested (TOCSIN_PUBLIC_URL + path + query) and the form's
parameters; twilio's RequestValidator checks it. An unsigned or forged request gets 403 and
changes nothing. The answer is TwiML saying what happened in plain words.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

import redis
import structlog
from twilio.request_validator import RequestValidator

from bot.incident.commands import Engine
from bot.notify import Replies
from bot.notify.twilio import words
from bot.notify.twilio.account import TwilioAccount
from bot.state.store import IncidentNotFound

log = structlog.get_logger(__name__)
SMS_PATH = "/notify/twilio/sms"
VOICE_PATH = "/notify/twilio/voice"
TWIML = "text/xml; charset=utf-8"
_MENTION = re.compile(r"<[@#!]([A-Za-z0-9_-]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = TWIML


def plain(text: str) -> str:
    """Slack mrkdwn made plain for a phone: mentions as @id, entities and stars undone."""
    text = _MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    return html.unescape(text.replace("*", ""))


class TwilioInbound:
    @classmethod
    def from_env(
        cls, env: Mapping[str, str], replies: Replies, engine: Engine
    ) -> TwilioInbound | None:
        """None without a Twilio account (TOCSIN_TWILIO_ACCOUNT_SID); an error without
        TOCSIN_PUBLIC_URL, the base of the URLs Twilio signs."""
        account = TwilioAccount.from_env(env)
        if account is None:
            return None
        public = account.public_url(env, "Twilio replies (signed for the URL Twilio used)")
        return cls(account.token, public, replies, engine)

    def __init__(self, auth_token: str, public_url: str, replies: Replies, engine: Engine) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")
        self.replies = replies
        self.engine = engine

    def handles(self, path: str) -> bool:
        return path in (SMS_PATH, VOICE_PATH)

    def handle(self, path: str, query: str, form: Mapping[str, str], signature: str) -> Answer:
        """The answer to one webhook: `form` is its decoded body, `query` the raw query."""
        url = self.public_url + path + (f"?{query}" if query else "")
        if not signature or not self.validator.validate(url, dict(form), signature):
            log.warning("twilio_signature_refused", path=path)
            return Answer(403, "X-Twilio-Signature does not match\n", "text/plain")
        try:
            if path == SMS_PATH:
                return Answer(200, words.sms_answer(self._sms(form)))
            code = dict(parse_qsl(query)).get("code")
            return Answer(200, words.voice_answer(self._keypress(form, code)))
        except redis.RedisError as exc:  # nothing was acknowledged: Twilio retries a 5xx
            log.error("twilio_reply_not_applied", path=path, error=type(exc).__name__)
            return Answer(503, "storage unavailable; retry\n", "text/plain")

    def _sms(self, form: Mapping[str, str]) -> str:
        is_ack, code = words.parse_reply(form.get("Body", ""))
        if not is_ack:
            return "Tocsin: reply ACK (or 1) to acknowledge your latest page."
        return self._acknowledge("sms", form.get("From", ""), code)

    def _keypress(self, form: Mapping[str, str], code: str | None) -> str:
        if form.get("Digits", "") != words.ACK_DIGIT:
            return "Not acknowledged. Goodbye."
        # On a call Tocsin made, the person is the number called; on one to Tocsin, the caller.
        outbound = form.get("Direction", "outbound-api").startswith("outbound")
        number = form.get("To" if outbound else "From", "")
        return self._acknowledge("voice", number, code)

    def _acknowledge(self, method: str, number: str, code: str | None) -> str:
        page = self.replies.page_for(method, number, code) if number else None
        if page is None:
            which = f" with code {code}" if code else ""
            return f"Tocsin: nothing to acknowledge: no open page{which} was sent to this number."
        incident_id, user = page
        try:
            outcome = self.engine.acknowledge(incident_id, user)
        except IncidentNotFound:
            return f"Tocsin: incident {incident_id} no longer exists."
        log.info("twilio_acknowledge", incident_id=incident_id, user_id=user, ok=outcome.ok)
        if outcome.ok:
            title = plain(outcome.incident.title)
            return f"Tocsin: you acknowledged incident {incident_id} ({title})."
        return f"Tocsin: incident {incident_id} not acknowledged: {plain(outcome.message)}"
