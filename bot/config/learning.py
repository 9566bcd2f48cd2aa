"""Settings of the learning loop (reviews, action items, metrics), read from the environment.

| variable | meaning | default |
|---|---|---|
| `TOCSIN_REVIEW_DUE_WITHIN` | review window: `2 business days` or a duration | `2 business days` |
| `TOCSIN_REVIEW_REMIND_EVERY` | how often an overdue review is reminded | `1d` |
| `TOCSIN_TIMEZONE` | calendar for business days, review times, typed milestone times | `UTC` |
| `TOCSIN_ACTION_REMIND_AT` | when an action item's owner is reminded on the due date | `09:00` |
| `TOCSIN_PRIVATE_REVIEWS` | `redact` (a private incident's free text) or `full` | `redact` |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from bot.domain.business_days import Window, WindowError, parse_window, zone
from bot.domain.durations import DurationError, parse_duration


class LearningSettingsError(ValueError):
    """A learning-loop variable has a value Tocsin cannot use (names the variable)."""


@dataclass(frozen=True)
class LearningConfig:
    review_due_within: Window = field(default_factory=lambda: Window(business_days=2))
    review_remind_every_s: int = 86400
    timezone: str = "UTC"
    redact_private: bool = True
    action_remind_at: time = time(9, 0)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LearningConfig:
        def duration(name: str, default: str) -> int:
            raw = env.get(name) or default
            try:
                return int(parse_duration(raw).total_seconds())
            except DurationError as exc:
                raise LearningSettingsError(f"{name}: {exc}") from None

        try:
            window = parse_window(env.get("TOCSIN_REVIEW_DUE_WITHIN") or "2 business days")
        except WindowError as exc:
            raise LearningSettingsError(f"TOCSIN_REVIEW_DUE_WITHIN: {exc}") from None
        tz = env.get("TOCSIN_TIMEZONE") or "UTC"
        try:
            zone(tz)
        except WindowError as exc:
            raise LearningSettingsError(f"TOCSIN_TIMEZONE: {exc}") from None
        private = (env.get("TOCSIN_PRIVATE_REVIEWS") or "redact").lower()
        if private not in ("redact", "full"):
            raise LearningSettingsError(
                f"TOCSIN_PRIVATE_REVIEWS={private!r}: use 'redact' or 'full'"
            )
        remind_at = env.get("TOCSIN_ACTION_REMIND_AT") or "09:00"
        try:
            action_remind_at = time.fromisoformat(remind_at)
        except ValueError:
            raise LearningSettingsError(
                f"TOCSIN_ACTION_REMIND_AT={remind_at!r} is not a time like 09:00"
            ) from None
        return cls(
            action_remind_at=action_remind_at,
            review_due_within=window,
            review_remind_every_s=duration("TOCSIN_REVIEW_REMIND_EVERY", "1d"),
            timezone=tz,
            redact_private=private == "redact",
        )
