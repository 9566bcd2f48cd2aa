"""Acknowledgements that arrive from off Slack: an SMS reply, a keypress on a call, the
button behind an email page's acknowledge link, an acknowledge or resolve made in PagerDuty.

Each is verified by its sender's signature (Twilio's `X-Twilio-Signature`, PagerDuty's
`X-PagerDuty-Signature`; the link's own signed one-time token, bot.notify.links), matched
to the page it answers (bot.notify's `Replies`, the PagerDuty incident's key, or the token
itself) and made a command by that person through the incident's command path, under the
same decision rights as a click. It sits above bot.incident, whose Engine it calls, and
below bot.web, whose routes stay thin: `twilio.py` for Twilio's webhooks, `pagerduty.py`
for PagerDuty's v3 webhooks, `email_link.py` (with `html.py`) for `/notify/ack/<token>`.
"""
