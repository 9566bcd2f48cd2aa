"""Request arguments as the emulator sees them, and the error a method raises to refuse a call.

slack_sdk sends some methods form-encoded (every value a string, lists and objects as JSON
text) and others as a JSON body (real booleans, lists and objects). `Args` hides the
difference so method code asks for the type it wants.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

JsonDict = dict[str, Any]
T = TypeVar("T")


class SlackError(Exception):
    """A Slack-style refusal: `{"ok": false, "error": code, ...extra}` with HTTP 200."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra

    def body(self) -> JsonDict:
        return {"ok": False, "error": self.code, **self.extra}


def invalid_arguments(*messages: str) -> SlackError:
    """The error Slack gives for a missing or malformed argument, with its explanation."""
    return SlackError("invalid_arguments", response_metadata={"messages": list(messages)})


class Args:
    """Typed access to one call's arguments, whatever encoding they arrived in."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def __contains__(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def text(self, name: str, *, missing: str | None = None) -> str:
        """The argument as text; `missing` is the error code to raise when it is absent."""
        value = self.raw.get(name)
        if value is None or value == "":
            if missing == "invalid_arguments":
                raise invalid_arguments(f"[ERROR] missing required field: {name}")
            if missing is not None:
                raise SlackError(missing)
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    def opt(self, name: str) -> str | None:
        value = self.text(name)
        return value or None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes")

    def number(self, name: str, default: int) -> int:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(float(value))
        except (TypeError, ValueError) as exc:
            raise invalid_arguments(f"[ERROR] {name} must be a number") from exc

    def csv(self, name: str) -> list[str]:
        value = self.raw.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part.strip() for part in str(value).split(",") if part.strip()]

    def parsed(self, name: str) -> Any:
        """A structured argument (blocks, view, metadata): JSON text or an already-parsed value."""
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise invalid_arguments(f"[ERROR] {name} is not valid JSON") from exc
        return value


@dataclass(frozen=True)
class Ctx:
    """One API call as a method handler sees it: its arguments and the user its token acts as."""

    args: Args
    actor: str


def page(items: list[T], args: Args, *, default_limit: int = 100) -> tuple[list[T], str]:
    """Slack-style cursor paging: a slice of `items` and the cursor of the next ("" at the end)."""
    limit = max(1, min(args.number("limit", default_limit) or default_limit, 1000))
    cursor = args.text("cursor")
    start = 0
    if cursor:
        try:
            start = int(base64.b64decode(cursor.encode()).decode().removeprefix("offset:"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SlackError("invalid_cursor") from exc
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return chunk, next_cursor
