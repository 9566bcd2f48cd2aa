"""How long each piece of text a person types may be, checked where it is typed.

Each cap leaves room for Slack's own limits after the bot's wording and mrkdwn escaping
(a header block's 150 characters, a section's 3,000, a message's 40,000), so text that
was accepted can never fail to post later. Pure: the edge reports a breach with
`too_long` as a usage error or a modal field error, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cap:
    what: str  # as a person calls it: "a note"
    limit: int  # characters


TITLE = Cap("An incident title", 150)
DESCRIPTION = Cap("A description", 3000)
NOTE = Cap("A note", 2000)
UPDATE_FIELD = Cap("Each part of a status update", 1000)
SUMMARY = Cap("A resolution summary", 1000)
REASON = Cap("A reason", 500)
PAGE_MESSAGE = Cap("A page's message", 1000)
ACTION = Cap("An action item", 500)
ALL = (TITLE, DESCRIPTION, NOTE, UPDATE_FIELD, SUMMARY, REASON, PAGE_MESSAGE, ACTION)


def too_long(cap: Cap, text: str | None) -> str | None:
    """What to tell the person when `text` is over `cap`; None when it fits."""
    size = len(text or "")
    if size <= cap.limit:
        return None
    return (
        f"{cap.what} can be at most {cap.limit:,} characters; this one has {size:,}. "
        "Shorten it, or link a document with the details."
    )
