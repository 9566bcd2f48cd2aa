"""Credentials out of text meant for people: errors, reprs and log lines.

`redact_text` masks the password of every URL (`redis://:***@host:6379/0`, also a
`?password=` argument) and every Slack token (`xoxb-***`) in a string. The signing secret
has no shape to recognise: it is kept out of reprs and logs by name (`Settings`, `bot.logs`).
"""

from __future__ import annotations

import re

MASK = "***"
# scheme://[user]:password@ — to the last @ of the netloc, as urlsplit reads one
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/?#]*@", re.IGNORECASE)
_PASSWORD_ARG = re.compile(r"(?P<head>[?&]password=)[^&#\s]+", re.IGNORECASE)
_SLACK_TOKEN = re.compile(r"\b(?P<head>xox[a-z]-|xapp-)[A-Za-z0-9-]+")


def redact_text(text: str) -> str:
    """`text` with URL passwords and Slack tokens replaced by `***`."""
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
    text = _PASSWORD_ARG.sub(rf"\g<head>{MASK}", text)
    return _SLACK_TOKEN.sub(rf"\g<head>{MASK}", text)
