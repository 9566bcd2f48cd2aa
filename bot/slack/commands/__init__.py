"""The `/incident` slash command: a pure parser from text to typed commands.

`parse(text, severities=...)` returns one of the command dataclasses or raises
`UsageError` (message, usage, suggestion) meant for the person who typed it. `COMMANDS`
is the one table of subcommand names, aliases, usage and descriptions, read by
`help_text` and `needs_incident`.
"""

from bot.slack.commands.grammar import ROLES, parse, severity_of
from bot.slack.commands.table import (
    COMMANDS,
    DEFAULT_SEVERITIES,
    Spec,
    help_text,
    needs_incident,
)
from bot.slack.commands.types import (
    Ack,
    AddAction,
    AssignRole,
    ChangeSeverity,
    Command,
    Declare,
    Escalate,
    Handoff,
    Help,
    ListIncidents,
    Mention,
    MentionKind,
    Milestone,
    Mitigate,
    Note,
    OnCall,
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

__all__ = [
    "COMMANDS",
    "DEFAULT_SEVERITIES",
    "ROLES",
    "Ack",
    "AddAction",
    "AssignRole",
    "ChangeSeverity",
    "Command",
    "Declare",
    "Escalate",
    "Handoff",
    "Help",
    "ListIncidents",
    "Mention",
    "MentionKind",
    "Milestone",
    "Mitigate",
    "Note",
    "OnCall",
    "OpenDeclareModal",
    "Page",
    "Reopen",
    "Resolve",
    "Runbook",
    "Spec",
    "Stats",
    "Status",
    "Timeline",
    "Update",
    "UsageError",
    "help_text",
    "needs_incident",
    "parse",
    "severity_of",
]
