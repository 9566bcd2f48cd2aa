"""Escalation policies and the pure planner that walks them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TargetKind(StrEnum):
    USER = "user"  # a Slack user id, or an email resolved with users.lookupByEmail
    SCHEDULE = "schedule"
    USERGROUP = "usergroup"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    ref: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.ref}"

    @property
    def is_email(self) -> bool:
        return self.kind is TargetKind.USER and "@" in self.ref

    @classmethod
    def parse(cls, text: str) -> Target:
        """Parse `kind:ref`; raise ValueError naming the known kinds otherwise."""
        kind, sep, ref = text.partition(":")
        known = ", ".join(k.value for k in TargetKind)
        if not sep or not ref.strip():
            raise ValueError(f"{text!r} is not a target like user:U123, schedule:NAME")
        try:
            return cls(TargetKind(kind.strip()), ref.strip())
        except ValueError:
            raise ValueError(f"unknown target kind {kind!r} (known: {known})") from None


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    wait_s: int


@dataclass(frozen=True)
class Policy:
    name: str
    services: tuple[str, ...]
    steps: tuple[Step, ...]
    repeat: int = 0
    fallback_channel: str | None = None
    severities: tuple[str, ...] = ()  # empty: the policy serves every severity

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "services": list(self.services),
            "steps": [
                {"notify": [str(t) for t in s.targets], "wait_s": s.wait_s} for s in self.steps
            ],
            "repeat": self.repeat,
            "fallback_channel": self.fallback_channel,
            "severities": list(self.severities),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        return cls(
            name=data["name"],
            services=tuple(data["services"]),
            steps=tuple(
                Step(tuple(Target.parse(t) for t in s["notify"]), int(s["wait_s"]))
                for s in data["steps"]
            ),
            repeat=int(data["repeat"]),
            fallback_channel=data.get("fallback_channel"),
            severities=tuple(data.get("severities", ())),
        )
