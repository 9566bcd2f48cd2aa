"""Acknowledgements that arrive from off Slack: an SMS reply, a keypress on a call.

Each is verified by its sender's signature, matched to the page it answers (bot.notify's
`Replies`) and made an acknowledgement by that person through the incident's command path,
under the same decision rights as a click. It sits above bot.incident, whose Engine it calls,
and below bot.web, whose routes stay thin.
"""
