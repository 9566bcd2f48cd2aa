"""A message about alerts in an incident's header thread, recorded on its timeline."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from redis.client import Pipeline

from bot.domain.alerts.sources import actor
from bot.domain.incident import Action, Incident
from bot.domain.timeline import Kind
from bot.incident.commands import Engine
from bot.incident.spec import CommandSpec, say
from bot.state.store import OutboxItem


def post(
    engine: Engine,
    source: str,
    incident_id: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    *,
    drain: bool = True,
) -> None:
    """Post `text` in the thread as the source (`drain`: deliver it now; else the caller
    schedules the drain). Never broadcast: nothing of an alert reaches a channel beyond the
    incident's own (a private incident's stays inside it)."""
    key = f"alerts:{uuid.uuid4().hex[:12]}"

    def items(inc: Incident, now: datetime) -> list[OutboxItem]:
        return [replace(say(text, now, key=key, thread=True), blocks=blocks)]

    def same(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
        return inc

    spec = CommandSpec(
        Action.NOTE, same, Kind.NOTE, text, announce="", outbox=items, record_only=True
    )
    if engine.command(incident_id, actor(source), spec).ok and drain:
        engine.esc.timers.schedule_drain(incident_id)
