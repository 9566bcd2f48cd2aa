"""Acting on the stack as Slack would, for the reliability tests (over signed HTTP)."""

from __future__ import annotations

import re
import time
from typing import Any

from bot.sandbox import payloads
from bot.sandbox.replies import Origin
from bot.sandbox.wire import Result
from tests.e2e.support import Stack, wait_for

_ID = re.compile(r"`(\d{8}-\d+)`")


def declare(
    stack: Stack, text: str = "declare sev2 Checkout errors", user: str = "U0ERIN001"
) -> tuple[str, str]:
    """Declare over HTTP; wait for the channel and its pinned header; (incident id, channel id)."""
    result = stack.driver().slash(user, text)
    assert result.status == 200, result.text
    found = _ID.search(result.text)
    assert found, result.text
    incident_id = found.group(1)
    channel = wait_for(lambda: channel_of(stack, incident_id), timeout=30)
    wait_for(lambda: stack.emulator.pins(channel), timeout=30)
    return incident_id, channel


def channel_of(stack: Stack, incident_id: str) -> str | None:
    for chan in stack.emulator.channels():
        if chan["name"].startswith(f"inc-{incident_id}-"):
            return str(chan["id"])
    return None


def header(stack: Stack, channel: str) -> dict[str, Any]:
    return next(m for m in stack.emulator.transcript(channel) if m.get("pinned"))


def click(
    stack: Stack,
    user: str,
    message: dict[str, Any],
    action_id: str,
    *,
    action_ts: str | None = None,
    value: str | None = None,
) -> Result:
    """Click a button on a posted message (`value`: what the button claims to carry, if not
    its own); answers to the response_url land in the emulator."""
    payload = click_payload(stack, user, message, action_id, action_ts=action_ts, value=value)
    return stack.driver().post("interactive", payload)


def click_payload(
    stack: Stack,
    user: str,
    message: dict[str, Any],
    action_id: str,
    *,
    action_ts: str | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    """The block_actions payload Slack sends for `click`, built ahead of sending it."""
    emu = stack.emulator
    channel = message["channel"]
    origin = Origin(user, channel, message["ts"], message.get("thread_ts"))
    return payloads.block_actions(
        emu.payload_workspace,
        user_id=user,
        user_name=user.lower(),
        channel_id=channel,
        channel_name=channel.lower(),
        message=message,
        action_id=action_id,
        value=value,
        action_ts=action_ts or f"{time.time():.6f}",
        trigger_id=emu.mint_trigger_id(user),
        response_url=emu.bridge.response_url(origin),
    )


def ephemeral_texts(stack: Stack, user: str | None = None) -> list[str]:
    return [str(e["text"]) for e in stack.emulator.ephemerals(user)]
