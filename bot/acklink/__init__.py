"""Acknowledging from an email: the confirm page and the POST behind its button.

`tocsin web` routes `/notify/ack/<token>` here (bot.web); the token is checked and spent by
bot.notify.links, and the acknowledgement itself goes through the same command a click on
Acknowledge runs (bot.incident.commands), under the same decision rights.
"""
