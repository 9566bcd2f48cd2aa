"""`parse`: the text after `/incident` to a typed command, or a `UsageError` for the person.

Pure: no Slack, Redis, environment or clock. Free text (titles, reasons, notes, messages)
is returned exactly as typed apart from surrounding whitespace; escaping for mrkdwn is the
renderer's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date

from bot.domain import limits
from bot.slack.commands.lexer import mention, refused, shown, take, take_last, words
from bot.slack.commands.oncall import Bad as OnCallBad
from bot.slack.commands.oncall import parse_oncall
from bot.slack.commands.table import (
    COMMANDS,
    DEFAULT_SEVERITIES,
    closest,
    lookup,
    unknown_subcommand,
)
from bot.slack.commands.types import (
    Ack,
    AddAction,
    AssignRole,
    ChangeSeverity,
    Command,
    Declare,
    Drill,
    Escalate,
    Handoff,
    Help,
    ListIncidents,
    Mention,
    Milestone,
    Mitigate,
    Note,
    OpenDeclareModal,
    Page,
    Reopen,
    Resolve,
    Runbook,
    Stats,
    Status,
    Timeline,
    Update,
    UsageError,
)

ROLES = ("commander", "comms", "scribe")
_ROLE_WORDS = {"commander": "commander", "ic": "commander", "comms": "comms", "scribe": "scribe"}

_SEVERITY_SHAPE = re.compile(r"sev[-_]?[0-9]+", re.IGNORECASE)
_WINDOW = re.compile(r"([0-9]{1,4})d", re.IGNORECASE)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_WHEN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{1,2}:[0-9]{2}Z?", re.IGNORECASE)
_MILESTONES = {
    "ack": "ack",
    "acknowledged": "ack",
    "mitigated": "mitigated",
    "mitigate": "mitigated",
    "contained": "mitigated",
    "resolved": "resolved",
    "resolve": "resolved",
}
MAX_WINDOW_DAYS = 365


class _Bad(Exception):
    """A subcommand's arguments are wrong; `parse` adds that subcommand's usage."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


Parser = Callable[[str, tuple[str, ...]], Command]


def _capped(cap: limits.Cap, text: str) -> str:
    """`text` if it fits `cap`; a usage error naming the cap otherwise."""
    if problem := limits.too_long(cap, text):
        raise _Bad(problem)
    return text


def parse(text: str, *, severities: Sequence[str] = DEFAULT_SEVERITIES) -> Command:
    """The command the text after `/incident` asks for.

    `severities` are the configured level names; `sevN`/`sev-N` in any case select the
    configured name they stand for. Raises `UsageError`, and nothing else, for bad input.
    """
    word, rest = take(text)
    if not word:
        return OpenDeclareModal()
    spec = lookup(word)
    if spec is None:
        raise unknown_subcommand(word, rest)
    try:
        return _PARSERS[spec.name](rest, tuple(severities))
    except _Bad as bad:
        raise UsageError(bad.message, spec.usage_text, bad.suggestion) from None


# Severities.


def _squash(word: str) -> str:
    return word.lower().replace("-", "").replace("_", "")


def severity_of(word: str, severities: Sequence[str]) -> str | None:
    """The configured severity a word names (`SEV2`, `sev-2` → `sev2`), or None."""
    for name in severities:
        if name.lower() == word.lower():
            return name
    squashed = _squash(word)
    for name in severities:
        if squashed and _squash(name) == squashed:
            return name
    return None


def _levels(severities: Sequence[str]) -> str:
    if not severities:
        return "No severity levels are configured."
    return "Levels: " + ", ".join(f"`{name}`" for name in severities) + "."


def _bad_level(word: str, severities: Sequence[str]) -> _Bad:
    by_lower = {name.lower(): name for name in severities}
    near = closest(_squash(word), list(by_lower))
    hint = f"Did you mean `{by_lower[near]}`? " if near else ""
    return _Bad(f"`{shown(word)}` is not a severity level.", hint + _levels(severities))


# Subcommands, in the order of COMMANDS.


def _declare(rest: str, severities: tuple[str, ...]) -> Command:
    word, after = take(rest)
    if not word:
        return Declare(None, None)
    severity = severity_of(word, severities)
    if severity is not None:
        return Declare(severity, _capped(limits.TITLE, after) or None)
    if _SEVERITY_SHAPE.fullmatch(word):
        raise _bad_level(word, severities)
    return Declare(None, _capped(limits.TITLE, rest))


def _no_arguments(make: Callable[[], Command]) -> Parser:
    def parser(rest: str, severities: tuple[str, ...]) -> Command:
        command = make()
        if rest:
            note = None
            if COMMANDS[command.subcommand].in_incident:
                note = "To add a note to the timeline, use `/incident note <text>`."
            raise _Bad(
                f"`{command.subcommand}` takes nothing after it (got `{shown(rest)}`).", note
            )
        return command

    return parser


def _oncall(rest: str, severities: tuple[str, ...]) -> Command:
    try:
        return parse_oncall(rest)
    except OnCallBad as bad:
        raise _Bad(bad.message, bad.suggestion) from None


def _stats(rest: str, severities: tuple[str, ...]) -> Command:
    given = words(rest, limit=2)
    if len(given) > 2:
        raise _Bad("`stats` takes at most a window (such as `90d`) and one service.")
    window: int | None = None
    service: str | None = None
    for word in given:
        if m := _WINDOW.fullmatch(word):
            days = int(m.group(1))
            if window is not None or not 1 <= days <= MAX_WINDOW_DAYS:
                raise _Bad(f"Give one window of 1 to {MAX_WINDOW_DAYS} days, such as `30d`.")
            window = days
        elif service is None:
            service = word
        else:
            raise _Bad(f"Give one service, not `{shown(service)}` and `{shown(word)}`.")
    return Stats(window if window is not None else 30, service)


def _help(rest: str, severities: tuple[str, ...]) -> Command:
    word, after = take(rest)
    if not word:
        return Help(None)
    if after:
        raise _Bad("`help` takes one subcommand name.")
    spec = lookup(word)
    if spec is None:
        raise _Bad(
            f"`{shown(word)}` is not an /incident subcommand.", unknown_subcommand(word).suggestion
        )
    return Help(spec.name)


def _escalate(rest: str, severities: tuple[str, ...]) -> Command:
    return Escalate(_capped(limits.REASON, rest))


def _update(rest: str, severities: tuple[str, ...]) -> Command:
    return Update(_capped(limits.UPDATE_FIELD, rest) or None)


def _sev(rest: str, severities: tuple[str, ...]) -> Command:
    word, reason = take(rest)
    if not word:
        raise _Bad("Which severity? Name the new level.", _levels(severities))
    severity = severity_of(word, severities)
    if severity is None:
        raise _bad_level(word, severities)
    return ChangeSeverity(severity, _capped(limits.REASON, reason))


def _person(text: str) -> Mention:
    """Exactly one person, mentioned, and nothing after them."""
    word, extra = take(text)
    if not word:
        raise _Bad("Who? Mention the person, such as `@alice`.")
    if reason := refused(word):
        raise _Bad(reason)
    found = mention(word)
    if found is None:
        raise _Bad(f"`{shown(word)}` is not a mention; start the person's name with @.")
    if found.kind != "user":
        raise _Bad("That is a user group; this needs one person.")
    if extra:
        raise _Bad(f"Only one person, please; unexpected `{shown(extra)}`.")
    return found


def _role(rest: str, severities: tuple[str, ...]) -> Command:
    word, after = take(rest)
    roles = "Roles: " + ", ".join(f"`{r}`" for r in ROLES) + "."
    if not word:
        raise _Bad("Which role?", roles)
    role = _ROLE_WORDS.get(word.lower())
    if role is None:
        near = closest(word, list(_ROLE_WORDS))
        hint = f"Did you mean `{_ROLE_WORDS[near]}`? " if near else ""
        raise _Bad(f"`{shown(word)}` is not a role.", hint + roles)
    return AssignRole(role, _person(after))


def _handoff(rest: str, severities: tuple[str, ...]) -> Command:
    return Handoff(_person(rest))


def _page(rest: str, severities: tuple[str, ...]) -> Command:
    targets: list[Mention] = []
    seen: set[tuple[str, str]] = set()
    remaining = rest
    word, after = take(remaining)
    while word:
        if reason := refused(word):
            raise _Bad(reason)
        found = mention(word)
        if found is None:
            break
        key = (found.kind, found.id or "@" + (found.name or "").lower())
        if key not in seen:
            seen.add(key)
            targets.append(found)
        remaining = after
        word, after = take(remaining)
    if not targets:
        hint = None
        if word and re.fullmatch(r"[\w.-]+", word):
            hint = f"Did you mean `/incident page @{shown(word)}`?"
        raise _Bad("Whom should I page? Mention at least one person or user group first.", hint)
    return Page(tuple(targets), _capped(limits.PAGE_MESSAGE, remaining))


def _note(rest: str, severities: tuple[str, ...]) -> Command:
    if not rest:
        raise _Bad("What should the note say?")
    return Note(_capped(limits.NOTE, rest))


def _resolve(rest: str, severities: tuple[str, ...]) -> Command:
    return Resolve(_capped(limits.SUMMARY, rest))


def _due(word: str) -> date:
    m = _ISO_DATE.fullmatch(word)
    if m is None:
        raise _Bad(f"Give the due date as YYYY-MM-DD, not `{shown(word)}`.")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _Bad(f"`{word}` is not a real date.") from None


def _action(rest: str, severities: tuple[str, ...]) -> Command:
    """Owner and due date are read from the end, in either order; the text is what remains."""
    body, owner, due = rest, None, None
    for _ in range(2):
        before, last = take_last(body)
        if owner is None and (found := mention(last)) is not None:
            owner, body = found, before
            continue
        ahead, keyword = take_last(before)
        if due is None and keyword.lower() == "due" and last[:1].isascii() and last[:1].isdigit():
            due, body = _due(last), ahead
            continue
        break
    if not body:
        raise _Bad("What is the action? Describe it before the owner and due date.")
    return AddAction(_capped(limits.ACTION, body), owner, due)


def _milestone(rest: str, severities: tuple[str, ...]) -> Command:
    word, when = take(rest)
    names = "Milestones: `ack`, `mitigated`, `resolved`."
    if not word:
        raise _Bad("Which milestone?", names)
    which = _MILESTONES.get(word.lower())
    if which is None:
        near = closest(word, list(_MILESTONES))
        hint = f"Did you mean `{_MILESTONES[near]}`? " if near else ""
        raise _Bad(f"`{shown(word)}` is not a milestone.", hint + names)
    when = " ".join(when.split())
    if not _WHEN.fullmatch(when):
        shown_when = f"`{shown(when)}`" if when else "nothing"
        raise _Bad(f"Give the time as `YYYY-MM-DD HH:MM` (add Z for UTC), not {shown_when}.")
    try:
        date(int(when[:4]), int(when[5:7]), int(when[8:10]))
    except ValueError:
        raise _Bad(f"`{shown(when)}` is not a real date.") from None
    return Milestone(which, when)


def _drill(rest: str, severities: tuple[str, ...]) -> Command:
    """`[policy] [sevN] [scenario]`: a severity-shaped word is the level, a word before it
    the policy, one after it the scenario (without a level: policy, then scenario)."""
    found = words(rest, 3)
    at = next((i for i, w in enumerate(found) if _SEVERITY_SHAPE.fullmatch(w)), None)
    severity = None
    if at is not None:
        severity = severity_of(found[at], severities)
        if severity is None:
            raise _bad_level(found[at], severities)
        before, after = found[:at], found[at + 1 :]
    else:
        before, after = found[:1], found[1:]
    if len(found) > 3 or len(before) > 1 or len(after) > 1:
        raise _Bad("A drill takes at most a policy, a severity and a scenario, one word each.")
    return Drill(
        before[0] if before else None, severity, _capped(limits.TITLE, after[0]) if after else None
    )


_PARSERS: dict[str, Parser] = {
    "declare": _declare,
    "drill": _drill,
    "list": _no_arguments(ListIncidents),
    "oncall": _oncall,
    "stats": _stats,
    "help": _help,
    "ack": _no_arguments(Ack),
    "escalate": _escalate,
    "update": _update,
    "sev": _sev,
    "role": _role,
    "handoff": _handoff,
    "page": _page,
    "note": _note,
    "mitigate": _no_arguments(Mitigate),
    "resolve": _resolve,
    "reopen": _no_arguments(Reopen),
    "status": _no_arguments(Status),
    "timeline": _no_arguments(Timeline),
    "runbook": _no_arguments(Runbook),
    "action": _action,
    "milestone": _milestone,
}
if _PARSERS.keys() != COMMANDS.keys():  # pragma: no cover - a programming error at import
    raise RuntimeError("every row of COMMANDS needs a parser, and only those")
