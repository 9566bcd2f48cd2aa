"""Pages by Twilio: `sms` (a text message) and `voice` (a call that takes a keypress).

    TwilioSms.from_env(env) -> TwilioSms | None     # None: no Twilio account configured
    TwilioVoice.from_env(env, calls) -> TwilioVoice | None  # calls: per number (bot.state.calls)

The account and its REST client are in `account`, the words and TwiML in `words`; inbound
replies (an SMS "ACK", a keypress) are acknowledged by bot.inbound.twilio, above the
incident room that acknowledging needs.
"""

from __future__ import annotations

from bot.notify.twilio.account import TwilioAccount
from bot.notify.twilio.sms import TwilioSms
from bot.notify.twilio.voice import TwilioVoice

__all__ = ["TwilioAccount", "TwilioSms", "TwilioVoice"]
