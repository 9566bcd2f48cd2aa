"""The typed values the `/incident` parser produces, and the one error it raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Literal, TypeAlias

MentionKind = Literal["user", "usergroup"]


@dataclass(frozen=True, slots=True)
class Mention:
    """A person or user group named in a command.

    Escaped mentions carry the Slack id (and the label Slack sent, if any); a typed
    `@handle` carries only the name, to be resolved later (it may turn out to be a user
    group's handle); a bare `U…` id carries only the id.
    """

    kind: MentionKind
    id: str | None
    name: str | None


class UsageError(ValueError):
    """The command text cannot be understood; every field is meant for the person who typed it.

    `message` says what is wrong, `usage` holds the usage line(s) of the subcommand, and
    `suggestion` (if any) names the closest valid input.
    """

    def __init__(self, message: str, usage: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.suggestion = suggestion

    def __repr__(self) -> str:
        return f"UsageError({self.message!r}, usage={self.usage!r}, suggestion={self.suggestion!r})"


# Each command names its canonical subcommand, the key of its row in `COMMANDS`.


@dataclass(frozen=True, slots=True)
class OpenDeclareModal:
    subcommand: ClassVar[str] = "declare"


@dataclass(frozen=True, slots=True)
class Declare:
    subcommand: ClassVar[str] = "declare"
    severity: str | None
    title: str | None


@dataclass(frozen=True, slots=True)
class Drill:
    """A drill: each part left out is chosen by `bot.drills.service.drill_route`."""

    subcommand: ClassVar[str] = "drill"
    policy: str | None
    severity: str | None
    scenario: str | None


@dataclass(frozen=True, slots=True)
class ListIncidents:
    subcommand: ClassVar[str] = "list"


@dataclass(frozen=True, slots=True)
class OnCall:
    subcommand: ClassVar[str] = "oncall"
    target: str | None


@dataclass(frozen=True, slots=True)
class OnCallOverride:
    """`user` covers `schedule` from `start` (None: now) to `end`, naive wall-clock times
    in the schedule's zone."""

    subcommand: ClassVar[str] = "oncall"
    schedule: str
    user: Mention
    start: datetime | None
    end: datetime


@dataclass(frozen=True, slots=True)
class OnCallSwap:
    """`second` takes `first`'s shift at `at` (wall-clock; None: now), `first` takes
    `second`'s next one; `schedule` None: the one schedule both are members of."""

    subcommand: ClassVar[str] = "oncall"
    schedule: str | None
    first: Mention
    second: Mention
    at: datetime | None


@dataclass(frozen=True, slots=True)
class OnCallNote:
    """A note for the next handoff of the schedules the writer is on call for."""

    subcommand: ClassVar[str] = "oncall"
    text: str


@dataclass(frozen=True, slots=True)
class OnCallRemove:
    subcommand: ClassVar[str] = "oncall"
    change_id: str


@dataclass(frozen=True, slots=True)
class Help:
    subcommand: ClassVar[str] = "help"
    topic: str | None


@dataclass(frozen=True, slots=True)
class Stats:
    subcommand: ClassVar[str] = "stats"
    window_days: int = 30
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    subcommand: ClassVar[str] = "ack"


@dataclass(frozen=True, slots=True)
class Escalate:
    subcommand: ClassVar[str] = "escalate"
    reason: str


@dataclass(frozen=True, slots=True)
class Update:
    subcommand: ClassVar[str] = "update"
    text: str | None


@dataclass(frozen=True, slots=True)
class ChangeSeverity:
    subcommand: ClassVar[str] = "sev"
    severity: str
    reason: str


@dataclass(frozen=True, slots=True)
class AssignRole:
    subcommand: ClassVar[str] = "role"
    role: str
    user: Mention


@dataclass(frozen=True, slots=True)
class Handoff:
    subcommand: ClassVar[str] = "handoff"
    user: Mention


@dataclass(frozen=True, slots=True)
class Mitigate:
    subcommand: ClassVar[str] = "mitigate"


@dataclass(frozen=True, slots=True)
class Resolve:
    subcommand: ClassVar[str] = "resolve"
    summary: str


@dataclass(frozen=True, slots=True)
class Reopen:
    subcommand: ClassVar[str] = "reopen"


@dataclass(frozen=True, slots=True)
class Note:
    subcommand: ClassVar[str] = "note"
    text: str


@dataclass(frozen=True, slots=True)
class Page:
    subcommand: ClassVar[str] = "page"
    targets: tuple[Mention, ...]
    message: str


@dataclass(frozen=True, slots=True)
class Status:
    subcommand: ClassVar[str] = "status"


@dataclass(frozen=True, slots=True)
class Timeline:
    subcommand: ClassVar[str] = "timeline"


@dataclass(frozen=True, slots=True)
class Runbook:
    subcommand: ClassVar[str] = "runbook"


@dataclass(frozen=True, slots=True)
class AddAction:
    subcommand: ClassVar[str] = "action"
    text: str
    owner: Mention | None
    due: date | None


@dataclass(frozen=True, slots=True)
class Milestone:
    """Correct a milestone: `which` is ack, mitigated or resolved; `when` as typed
    (`YYYY-MM-DD HH:MM`, wall clock in TOCSIN_TIMEZONE, or with `Z` for UTC)."""

    subcommand: ClassVar[str] = "milestone"
    which: str
    when: str


Command: TypeAlias = (
    OpenDeclareModal
    | Declare
    | Drill
    | ListIncidents
    | OnCall
    | OnCallOverride
    | OnCallSwap
    | OnCallRemove
    | OnCallNote
    | Help
    | Stats
    | Ack
    | Escalate
    | Update
    | ChangeSeverity
    | AssignRole
    | Handoff
    | Mitigate
    | Resolve
    | Reopen
    | Note
    | Page
    | Status
    | Timeline
    | Runbook
    | AddAction
    | Milestone
)
