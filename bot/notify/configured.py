"""An outside service as `services.yaml` names it, and the secret its environment variable
holds: each missing one is a permanent failure that says what to fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from bot.paging import Undeliverable

T = TypeVar("T")


def named(services: Mapping[str, T], address: str, what: str) -> T:
    """The service called `address`; Undeliverable listing the known ones otherwise."""
    found = services.get(address)
    if found is None:
        known = ", ".join(sorted(services)) or "none"
        code = "unknown_" + what.split()[-1].lower()
        raise Undeliverable(code, f"no {what} {address!r} in services.yaml ({known})")
    return found


def secret(env: Mapping[str, str], variable: str, purpose: str) -> str:
    """The value of `variable`; Undeliverable naming it (never its value) when unset."""
    value = env.get(variable, "").strip()
    if not value:
        raise Undeliverable("secret_unset", f"{variable} is not set: {purpose} (services.yaml)")
    return value
