"""RQ job function of containment actions: thin. Arguments are ids and primitives."""

from __future__ import annotations

from bot.jobs import _bind, runtime


def run_containment(
    incident_id: str, action_id: str, run_id: str, user: str, thread_ts: str | None
) -> str:
    """Send a containment action's signed webhook once and tell its outcome."""
    _bind(incident_id)
    return runtime().containment.run(incident_id, action_id, run_id, user, thread_ts)
