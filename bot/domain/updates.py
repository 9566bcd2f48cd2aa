"""Status updates: the fixed template, and when the next one is due."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.limits import UPDATE_FIELD, too_long

UPDATE_STATUSES = ("investigating", "identified", "monitoring")
"""An update reports progress; it never resolves (that takes the resolve right and a summary)."""
RESOLVE_INSTEAD = "An update does not resolve: use /incident resolve or the Resolve button"


@dataclass(frozen=True)
class StatusUpdate:
    """One update in the protocol's template: facts, not speculation."""

    status: str  # one of UPDATE_STATUSES
    symptoms: str  # symptoms observed
    actions: str  # actions taken
    next_steps: str
    next_in_s: int  # the next update is due this long after this one

    def problems(self) -> dict[str, str]:
        """Field name -> what is wrong with it; empty when the update is complete."""
        found = {}
        if self.status == "resolved":
            found["status"] = RESOLVE_INSTEAD
        elif self.status not in UPDATE_STATUSES:
            found["status"] = f"choose one of {', '.join(UPDATE_STATUSES)}"
        for name in ("symptoms", "actions", "next_steps"):
            text = getattr(self, name)
            if not text.strip():
                found[name] = "required: one line is enough"
            elif problem := too_long(UPDATE_FIELD, text):
                found[name] = problem
        if not 10 <= self.next_in_s <= 24 * 3600:
            found["next_in"] = "between 10 seconds and 24 hours"
        return found


def reminder_delay(stage: int, cadence_s: int) -> float:
    """Seconds after the due time when reminder `stage` fires (1: at once, 2: half a cadence)."""
    return 0.0 if stage == 1 else cadence_s / 2
