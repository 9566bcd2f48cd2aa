"""Names of the Redis keys that more than one room reads (the rest live with their store)."""

from __future__ import annotations

PREFIX = "tocsin"
SCHEDULER_LEASE = f"{PREFIX}:lease:scheduler"  # held by the worker that dispatches due steps
