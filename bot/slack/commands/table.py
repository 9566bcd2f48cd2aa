"""`COMMANDS`: the one table of subcommand names, aliases, usage and descriptions.

Help text, suggestions for typos, usage lines in errors and `needs_incident` all read it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bot.slack.commands.lexer import shown
from bot.slack.commands.types import Command, UsageError

DEFAULT_SEVERITIES = ("sev1", "sev2", "sev3")


@dataclass(frozen=True, slots=True)
class Spec:
    """One subcommand: its name, the other words people type for it, and its help."""

    name: str
    usage: tuple[str, ...]
    summary: str
    in_incident: bool
    aliases: tuple[str, ...] = ()

    @property
    def usage_text(self) -> str:
        return "\n".join(self.usage)


_SPECS = (
    # Anywhere.
    Spec(
        "declare",
        ("/incident declare [severity] [title]", "/incident"),
        "Declare an incident; anything left out is asked for in a form.",
        in_incident=False,
    ),
    Spec(
        "drill",
        ("/incident drill [policy] [severity] [scenario]",),
        "Start a drill: the real paging path, marked DRILL, left out of every figure.",
        in_incident=False,
    ),
    Spec("list", ("/incident list",), "List the open incidents.", in_incident=False),
    Spec(
        "oncall",
        (
            "/incident oncall [schedule or service]",
            "/incident oncall override <schedule> @who <from|now> <to>",
            "/incident oncall swap [schedule] @a @b [when]",
            "/incident oncall remove <id>",
            "/incident oncall note <text>",
        ),
        "Show who is on call; cover, swap or undo a shift (times in the schedule's zone); "
        "leave a note for your handoff.",
        in_incident=False,
        aliases=("on-call",),
    ),
    Spec(
        "stats",
        ("/incident stats [30d|90d] [service]",),
        "Show time to acknowledge, contain and resolve, per severity.",
        in_incident=False,
    ),
    Spec(
        "help",
        ("/incident help [subcommand]",),
        "Show this help, or the details of one subcommand.",
        in_incident=False,
    ),
    # In an incident channel.
    Spec(
        "ack",
        ("/incident ack",),
        "Acknowledge the incident; escalation stops.",
        in_incident=True,
        aliases=("acknowledge",),
    ),
    Spec(
        "escalate",
        ("/incident escalate [reason]",),
        "Page the next step of the escalation policy now.",
        in_incident=True,
    ),
    Spec(
        "update",
        ("/incident update [text]",),
        "Post a status update; without text, opens the update form.",
        in_incident=True,
    ),
    Spec(
        "sev",
        ("/incident sev <level> [reason]",),
        "Change the severity.",
        in_incident=True,
        aliases=("severity",),
    ),
    Spec(
        "role",
        ("/incident role <commander|comms|scribe> @person",),
        "Give a role to someone.",
        in_incident=True,
    ),
    Spec(
        "handoff",
        ("/incident handoff @person",),
        "Hand incident command to someone else.",
        in_incident=True,
    ),
    Spec(
        "page",
        ("/incident page @person|@group [@more…] [message]",),
        "Page people or user groups into the incident.",
        in_incident=True,
    ),
    Spec("note", ("/incident note <text>",), "Add a note to the timeline.", in_incident=True),
    Spec(
        "mitigate",
        ("/incident mitigate",),
        "Mark the impact as contained.",
        in_incident=True,
        aliases=("mitigated",),
    ),
    Spec(
        "resolve",
        ("/incident resolve [summary]",),
        "Resolve the incident.",
        in_incident=True,
        aliases=("resolved",),
    ),
    Spec(
        "reopen",
        ("/incident reopen",),
        "Reopen a mitigated or resolved incident.",
        in_incident=True,
    ),
    Spec(
        "status",
        ("/incident status",),
        "Show the status, roles and when the next update is due.",
        in_incident=True,
    ),
    Spec("timeline", ("/incident timeline",), "Show the incident's timeline.", in_incident=True),
    Spec(
        "runbook",
        ("/incident runbook",),
        "Show the runbook for this incident.",
        in_incident=True,
    ),
    Spec(
        "action",
        ("/incident action <text> [@owner] [due YYYY-MM-DD]",),
        "Add a follow-up action item.",
        in_incident=True,
    ),
    Spec(
        "milestone",
        ("/incident milestone <ack|mitigated|resolved> <YYYY-MM-DD HH:MM[Z]>",),
        "Correct when the incident was acknowledged, mitigated or resolved.",
        in_incident=True,
    ),
)

COMMANDS: Mapping[str, Spec] = MappingProxyType({spec.name: spec for spec in _SPECS})


def _word_index(specs: Iterable[Spec]) -> dict[str, str]:
    """Every word that selects a subcommand, mapped to its name; a word may mean one thing."""
    index: dict[str, str] = {}
    for spec in specs:
        for word in (spec.name, *spec.aliases):
            if word in index:
                raise ValueError(f"{word!r} would select both {index[word]!r} and {spec.name!r}")
            index[word] = spec.name
    return index


WORDS: Mapping[str, str] = MappingProxyType(_word_index(_SPECS))

OVERVIEW_USAGE = "/incident <subcommand> [arguments], where <subcommand> is one of: " + ", ".join(
    COMMANDS
)


def lookup(word: str) -> Spec | None:
    """The subcommand a word selects (any case, name or alias), or None."""
    name = WORDS.get(word.lower())
    return COMMANDS[name] if name else None


def closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice nearest to a misspelled word, if any is near enough.

    Among the near ones, a choice with exactly the word's letters (a transposition, such as
    `stauts` for `status`) beats a merely similar one (`stats`).
    """
    lowered = word.lower()
    near = difflib.get_close_matches(lowered, choices, n=3, cutoff=0.6)
    for choice in near:
        if sorted(choice) == sorted(lowered):
            return choice
    return near[0] if near else None


def unknown_subcommand(word: str, rest: str = "") -> UsageError:
    """The error for a first word that is no subcommand, with the nearest one if any.

    With nothing near and more words following, the person most likely typed a title.
    """
    near = closest(word, list(WORDS))
    suggestion = None
    if near:
        suggestion = f"Did you mean `/incident {WORDS[near]}`?"
    elif rest:
        suggestion = "To declare an incident, use `/incident declare [severity] [title]`."
    return UsageError(
        f"`{shown(word)}` is not an /incident subcommand; `/incident help` lists them.",
        OVERVIEW_USAGE,
        suggestion,
    )


def needs_incident(command: Command | str) -> bool:
    """True when the command (or subcommand name or alias) only works in an incident channel."""
    if isinstance(command, str):
        spec = lookup(command)
        if spec is None:
            raise unknown_subcommand(command)
        return spec.in_incident
    return COMMANDS[command.subcommand].in_incident


def _line(spec: Spec) -> str:
    return f"`{spec.usage[0]}` — {spec.summary}"


def help_text(topic: str | None = None, *, severities: Sequence[str] = DEFAULT_SEVERITIES) -> str:
    """Help for every subcommand, grouped by where it works, or the details of one."""
    if topic is None or not topic.strip():
        anywhere = [_line(s) for s in COMMANDS.values() if not s.in_incident]
        incident = [_line(s) for s in COMMANDS.values() if s.in_incident]
        return "\n".join(
            [
                "*Anywhere*",
                "`/incident` — Open the form to declare an incident.",
                *anywhere,
                "",
                "*In an incident channel*",
                *incident,
            ]
        )
    spec = lookup(topic.strip())
    if spec is None:
        raise unknown_subcommand(topic.strip())
    lines = [f"`{usage}`" for usage in spec.usage]
    lines.append(spec.summary)
    if spec.name in ("declare", "sev"):
        levels = ", ".join(f"`{s}`" for s in severities) or "none configured"
        lines.append(f"Severity levels: {levels}.")
    if spec.aliases:
        lines.append("Also typed as: " + ", ".join(f"`{a}`" for a in spec.aliases) + ".")
    where = "in an incident channel only" if spec.in_incident else "anywhere"
    lines.append(f"Works {where}.")
    return "\n".join(lines)
