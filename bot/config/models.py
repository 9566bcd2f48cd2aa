"""Pydantic models of the three config file kinds, and their conversion to domain objects."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.config.alerts import AlertsFile
from bot.config.drills import DrillsFile
from bot.config.fields import (
    ChannelId,
    DayName,
    Duration,
    Hours,
    Principal,
    SchedulePrincipal,
    TargetText,
    TimezoneName,
    WallClock,
    parse_hours,
)
from bot.config.people import PeopleFile
from bot.config.services import ServicesFile
from bot.domain.durations import parse_duration
from bot.domain.policy import Policy, Step, Target
from bot.domain.schedule import DAY_NAMES, Override, Restriction, Rotation, Schedule
from bot.domain.severity import Criteria, Rights, Tier

Name = Annotated[str, Field(min_length=1, description="A name other files refer to.")]
UserRef = Annotated[str, Field(min_length=1, description="A Slack user id or email.")]


def _seconds(text: str) -> int:
    return int(parse_duration(text).total_seconds())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StepModel(_Model):
    """One escalation step: notify these targets, then wait for an acknowledgement."""

    notify: list[TargetText] = Field(min_length=1, description="Targets paged at this step.")
    wait: Duration = Field(description="How long to wait for an ack before the next step.")


class PolicyFile(_Model):
    """An escalation policy: which services it covers and whom it pages, step by step."""

    model_config = ConfigDict(title="Escalation policy")

    name: Name
    services: list[Name] = Field(min_length=1, description='Services routed here; "*" = default.')
    severities: list[Name] | None = Field(
        default=None, min_length=1, description="Severities served; omit to serve every one."
    )
    steps: list[StepModel] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=9, description="Extra loops over the steps (0–9).")
    fallback_channel: ChannelId | None = Field(
        default=None, description="Channel told when the policy is exhausted."
    )

    def to_policy(self) -> Policy:
        return Policy(
            name=self.name,
            services=tuple(self.services),
            steps=tuple(
                Step(tuple(Target.parse(t) for t in s.notify), _seconds(s.wait)) for s in self.steps
            ),
            repeat=self.repeat,
            fallback_channel=self.fallback_channel,
            severities=tuple(self.severities or ()),
        )


class RestrictionModel(_Model):
    """Limit a rotation to some days and local hours."""

    days: list[DayName] = Field(default=list(DAY_NAMES), min_length=1)
    hours: Hours = Field(default="00:00-24:00")

    def to_restriction(self) -> Restriction:
        start, end = parse_hours(self.hours)
        return Restriction(frozenset(DAY_NAMES.index(d) for d in self.days), start, end)


class RotationModel(_Model):
    """Members take turns of length `turn`, the first from `start`."""

    members: list[UserRef] = Field(min_length=1)
    start: WallClock
    turn: Duration
    restrict: RestrictionModel | None = None

    def to_rotation(self) -> Rotation:
        return Rotation(
            members=tuple(self.members),
            start=self.start,
            turn=parse_duration(self.turn),
            restrict=self.restrict.to_restriction() if self.restrict else None,
        )


class OverrideModel(_Model):
    """`user` takes the schedule from `start` to `end` (wall-clock)."""

    user: UserRef
    start: WallClock
    end: WallClock

    @model_validator(mode="after")
    def _ends_after_start(self) -> OverrideModel:
        if self.end <= self.start:
            start, end = (t.isoformat(timespec="minutes") for t in (self.start, self.end))
            raise ValueError(f"end {end} must be after start {start}")
        return self

    def to_override(self) -> Override:
        return Override(self.user, self.start, self.end)


class ScheduleRightsModel(_Model):
    """Who may change the schedule from Slack (`/incident oncall override|swap|remove`).
    Unset: the members of its rotations."""

    schedules: list[SchedulePrincipal] = Field(default=["member"], min_length=1)


class SourceModel(_Model):
    """Who is on call, from an iCalendar feed: each event's attendees (or an email in its
    summary) are on call for the event."""

    ics: str = Field(min_length=1, description="An http(s) URL or a file path of the .ics feed.")
    refresh: Duration = Field(default="15m", description="How often the feed is read again.")


class ScheduleModel(_Model):
    """An on-call schedule in one IANA time zone."""

    timezone: TimezoneName
    rotations: list[RotationModel] = Field(default_factory=list)
    source: SourceModel | None = None
    overrides: list[OverrideModel] = Field(default_factory=list)
    rights: ScheduleRightsModel = Field(default_factory=ScheduleRightsModel)
    handoff_channel: ChannelId | None = Field(
        default=None, description="Channel told at each change of who is on call."
    )
    remind_before: Duration | None = Field(
        default=None, description="DM whoever comes on call this long before their shift."
    )
    combine: Literal["all", "top"] = Field(
        default="all",
        description="all: every rotation's person is on call; top: as PagerDuty's layers, "
        "only the last-listed rotation with someone on call counts.",
    )

    @model_validator(mode="after")
    def _someone(self) -> ScheduleModel:
        if not self.rotations and self.source is None:
            raise ValueError("a schedule needs rotations, or a source: {ics: <url or file>}")
        return self

    def to_schedule(self, name: str) -> Schedule:
        return Schedule(
            name=name,
            timezone=self.timezone,
            rotations=tuple(r.to_rotation() for r in self.rotations),
            overrides=tuple(o.to_override() for o in self.overrides),
            rights=tuple(self.rights.schedules),
            handoff_channel=self.handoff_channel,
            remind_before=parse_duration(self.remind_before) if self.remind_before else None,
            combine=self.combine,
            source=self.source.ics if self.source else None,
            refresh=parse_duration(self.source.refresh) if self.source else timedelta(minutes=15),
        )


class SchedulesFile(_Model):
    """On-call schedules by name."""

    model_config = ConfigDict(title="Schedules")

    schedules: dict[Name, ScheduleModel] = Field(min_length=1)


class CriteriaModel(_Model):
    """Impact thresholds; meeting any one selects the tier."""

    users_affected_pct: float | None = Field(default=None, ge=0, le=100)
    revenue_impact: bool | None = None
    legal_or_regulatory: bool | None = None
    data_loss: bool | None = None
    latency_ms: int | None = Field(default=None, gt=0)


class RightsModel(_Model):
    """Who may acknowledge, resolve, change severity, page and run containment actions. Unset,
    acknowledge and page are open to anyone; resolve, change_severity and contain to
    responders."""

    acknowledge: list[Principal] = Field(default=["anyone"], min_length=1)
    resolve: list[Principal] = Field(default=["responder"], min_length=1)
    change_severity: list[Principal] = Field(default=["responder"], min_length=1)
    page: list[Principal] = Field(default=["anyone"], min_length=1)
    contain: list[Principal] = Field(default=["responder"], min_length=1)


class TierModel(_Model):
    """A severity tier."""

    label: str = Field(min_length=1)
    update_every: Duration = Field(description="Status update cadence.")
    criteria: CriteriaModel = Field(default_factory=CriteriaModel)
    rights: RightsModel = Field(default_factory=RightsModel)
    stakeholder_channel: ChannelId | None = None

    def to_tier(self, name: str) -> Tier:
        c, r = self.criteria, self.rights
        return Tier(
            name=name,
            label=self.label,
            update_every_s=_seconds(self.update_every),
            criteria=Criteria(
                c.users_affected_pct,
                c.revenue_impact,
                c.legal_or_regulatory,
                c.data_loss,
                c.latency_ms,
            ),
            rights=Rights(
                tuple(r.acknowledge),
                tuple(r.resolve),
                tuple(r.change_severity),
                tuple(r.page),
                tuple(r.contain),
            ),
            stakeholder_channel=self.stakeholder_channel,
        )


class SeveritiesFile(_Model):
    """Severity tiers by name, most severe first."""

    model_config = ConfigDict(title="Severities")

    severities: dict[Name, TierModel] = Field(min_length=1)


ConfigFile = (
    PolicyFile
    | SchedulesFile
    | SeveritiesFile
    | AlertsFile
    | DrillsFile
    | ServicesFile
    | PeopleFile
)
