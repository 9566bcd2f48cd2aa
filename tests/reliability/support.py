"""Knobs and helpers for the reliability suite.

`make test` runs the bounded version; `make soak` sets TOCSIN_SOAK=1 for longer runs, and
each knob below can be set on its own (e.g. TOCSIN_CRASH_KILLS=200).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.sandbox.emulator import Emulator

SOAK = os.environ.get("TOCSIN_SOAK", "") not in ("", "0")


def knob(name: str, bounded: float, soak: float) -> float:
    """An env override, else the soak or bounded default."""
    raw = os.environ.get(name)
    return float(raw) if raw else (soak if SOAK else bounded)


def log_events(log_dir: Path) -> Iterator[dict[str, Any]]:
    """Every JSON log line the web and worker processes wrote (other lines are skipped)."""
    for path in sorted(log_dir.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def metadata_key(message: dict[str, Any]) -> tuple[str, str] | None:
    """(incident id, outbox key) a bot message carries in its metadata, if any."""
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    if "incident_id" in payload and "key" in payload:
        return str(payload["incident_id"]), str(payload["key"])
    return None


def deliveries(emu: Emulator) -> Counter[tuple[str, str]]:
    """How many messages in the workspace carry each (incident, outbox key)."""
    seen: Counter[tuple[str, str]] = Counter()
    for chan in emu.channels(include_ims=True):
        for message in emu.transcript(chan["id"]):
            for m in [message, *message.get("replies", [])]:
                key = metadata_key(m)
                if key:
                    seen[key] += 1
    return seen
