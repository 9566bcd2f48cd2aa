"""The grammar of `/incident oncall`: show, or change a schedule from Slack.

    oncall [schedule or service]
    oncall override <schedule> @who <from> <to>
    oncall swap [schedule] @a @b [<when>]
    oncall remove <id>
    oncall note <text>

Times are wall-clock in the schedule's zone: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or
`YYYY-MM-DD HH:MM`; `now` may start an override.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.domain import limits
from bot.slack.commands.lexer import mention, refused, shown, take
from bot.slack.commands.types import (
    Command,
    Mention,
    OnCall,
    OnCallNote,
    OnCallOverride,
    OnCallRemove,
    OnCallSwap,
)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{1,2}:[0-9]{2}", re.IGNORECASE)
_TIME = re.compile(r"[0-9]{1,2}:[0-9]{2}")
_ID = re.compile(r"o[0-9]{1,12}")
TIME_HINT = "Write times as `YYYY-MM-DD HH:MM` in the schedule's timezone."


class Bad(Exception):
    """The arguments are wrong; the grammar adds the usage."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message, self.suggestion = message, suggestion


def parse_oncall(rest: str) -> Command:
    word, after = take(rest)
    verb = word.lower()
    if verb == "override":
        return _override(after)
    if verb == "swap":
        return _swap(after)
    if verb == "note":
        if not after:
            raise Bad("What should the note for the next handoff say?")
        if problem := limits.too_long(limits.NOTE, after):
            raise Bad(problem)
        return OnCallNote(after)
    if verb in ("remove", "delete"):
        change, extra = take(after)
        if not _ID.fullmatch(change.lower()) or extra:
            raise Bad("Which change? Give its id, like `o12`, as `/incident oncall` lists it.")
        return OnCallRemove(change.lower())
    return OnCall(rest or None)


def _person(word: str) -> Mention:
    if reason := refused(word):
        raise Bad(reason)
    found = mention(word)
    if found is None or found.kind != "user":
        raise Bad(f"`{shown(word) or 'nothing'}` is not a person; mention them, like `@alice`.")
    return found


def _when(text: str) -> tuple[datetime | None, str]:
    """A time at the start of `text` and what follows; (None, text) when there is none."""
    word, after = take(text)
    if _DATE_TIME.fullmatch(word):
        return _wall(word.upper().replace("T", " ")), after
    if _DATE.fullmatch(word):
        clock_word, later = take(after)
        if _TIME.fullmatch(clock_word):
            return _wall(f"{word} {clock_word}"), later
        return _wall(f"{word} 00:00"), after
    return None, text


def _wall(text: str) -> datetime:
    day, _, hours = text.partition(" ")
    hour, _, minute = hours.partition(":")
    try:
        return datetime.fromisoformat(f"{day}T{int(hour):02d}:{minute}")
    except ValueError:
        raise Bad(f"`{shown(text)}` is not a real date and time.", TIME_HINT) from None


def _override(rest: str) -> Command:
    schedule, after = take(rest)
    if not schedule:
        raise Bad("Which schedule, who, from and to?")
    who, after = take(after)
    person = _person(who)
    start: datetime | None
    first, later = take(after)
    if first.lower() == "now":
        start, after = None, later
    else:
        start, after = _when(after)
        if start is None:
            raise Bad(f"`{shown(first) or 'nothing'}` is not a start time.", TIME_HINT)
    end, extra = _when(after)
    if end is None:
        raise Bad(f"`{shown(after) or 'nothing'}` is not an end time.", TIME_HINT)
    if extra:
        raise Bad(f"Unexpected `{shown(extra)}` after the end time.")
    if start is not None and end <= start:
        raise Bad("The override must end after it starts.")
    return OnCallOverride(schedule, person, start, end)


def _swap(rest: str) -> Command:
    word, after = take(rest)
    schedule = None
    if word and mention(word) is None and not refused(word):
        schedule, (word, after) = word, take(after)
    first = _person(word)
    word, after = take(after)
    second = _person(word)
    at, extra = _when(after)
    if extra:
        raise Bad(f"`{shown(extra)}` is not a time.", TIME_HINT)
    return OnCallSwap(schedule, first, second, at)
