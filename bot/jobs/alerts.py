"""RQ job functions of alerts in: thin. Arguments are source names."""

from __future__ import annotations

from bot.jobs import _bind, runtime


def drain_alerts(source: str) -> int:
    """Handle the notifications `tocsin web` accepted from `source`."""
    _bind(None)
    return runtime().alerts.drain(source)


def heartbeat_silent(source: str) -> str:
    """The source's heartbeat fell due: declare it silent unless it arrived meanwhile."""
    _bind(None)
    return runtime().heartbeats.silent(source)


def heartbeat_back(source: str) -> str:
    """The source's heartbeat arrived while it was declared silent: resolve that."""
    _bind(None)
    return runtime().heartbeats.back(source)
