"""What a Twilio page says, how its send is recognised again, and how a reply reads.

Pure text, no client: the SMS body and the call's TwiML, the short mark that ties a sent
message to its outbox item, and the acknowledgement an SMS reply or a keypress carries.
"""

from __future__ import annotations

import hashlib
import re

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from bot.notify import Notice

SMS_TITLE_MAX = 80  # a page should fit in two SMS segments with its mark and instructions
ACK_DIGIT = "1"
_REPLY = re.compile(r"^\s*(?:(ack)(?:\s+([a-z0-9-]{1,16}))?|1)\s*[.!]?\s*$", re.IGNORECASE)


def mark(incident_id: str, key: str) -> str:
    """A short tag, unique per page in practice, that a sent SMS carries at its end: from the
    incident and the outbox key, as an outbox key (page:0:0:U0ALICE01|sms) recurs in every
    incident, and a retry must not take another incident's page to the same phone for its own."""
    digest = hashlib.sha256(f"{incident_id}\0{key}".encode()).hexdigest()
    return "ref " + digest[:10]


def _title(notice: Notice, limit: int) -> str:
    title = " ".join(notice.title.split())
    return title if len(title) <= limit else title[: limit - 1] + "…"


def sms_body(notice: Notice) -> str:
    """The page as one SMS: what, where, how to acknowledge, and the mark."""
    how = f"Reply ACK {notice.reply_code}" if notice.reply_code else "Reply ACK"
    return (
        f"Tocsin {notice.severity.upper()} {notice.incident_id}: {_title(notice, SMS_TITLE_MAX)}"
        f" ({notice.service}). {how} to acknowledge. [{mark(notice.incident_id, notice.key)}]"
    )


def call_twiml(notice: Notice, action_url: str) -> str:
    """The call: read the page, then gather one key; 1 acknowledges at `action_url`."""
    said = (
        f"This is Tocsin. {notice.severity.upper()} incident: {_title(notice, 200)}, "
        f"on {notice.service}."
    )
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action_url, method="POST", timeout=10)
    gather.say(said)
    gather.say(f"Press {ACK_DIGIT} to acknowledge.")
    response.say("No key was pressed. Goodbye.")
    return str(response)


def parse_reply(body: str) -> tuple[bool, str | None]:
    """(is an acknowledgement, the code it names): "ACK", "1" and "ACK <code>" are."""
    match = _REPLY.match(body)
    if match is None:
        return False, None
    code = match.group(2)
    return True, code.upper() if code else None


def sms_answer(text: str) -> str:
    """TwiML answering an inbound SMS with `text`."""
    response = MessagingResponse()
    response.message(text)
    return str(response)


def voice_answer(text: str) -> str:
    """TwiML saying `text` on the call, then hanging up."""
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)
