"""Finding a message the bot posted, by the key it put in the message's Slack metadata
(`tag`).

A post can land in Slack although the caller saw an error (a timeout, a crash): before
posting again, the caller looks through the conversation's recent history for it.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient


def tag(event_type: str, tagged: tuple[str, str]) -> dict[str, Any]:
    """The message metadata that lets `find_posted` find a post by its (incident_id, key)."""
    incident_id, key = tagged
    return {"event_type": event_type, "event_payload": {"incident_id": incident_id, "key": key}}


def find_posted(
    client: WebClient,
    channel: str,
    since: float,
    tagged: tuple[str, str],
    *,
    thread: str | None = None,
    limit: int | None = None,
) -> str | None:
    """The ts of a message in `channel` posted after `since` (POSIX s) whose metadata payload
    carries `tagged` as its (incident_id, key); with `thread`, that thread's replies are
    searched too. `limit`: how many top-level messages to look at (Slack's default if None).
    Slack's errors are the caller's to handle."""
    oldest = f"{since:.6f}"
    page: dict[str, Any] = {} if limit is None else {"limit": limit}
    history = client.conversations_history(
        channel=channel, oldest=oldest, include_all_metadata=True, **page
    )
    found: list[dict[str, Any]] = list(history.get("messages", []))
    if thread:
        replies = client.conversations_replies(
            channel=channel, ts=thread, oldest=oldest, include_all_metadata=True
        )
        found += list(replies.get("messages", []))
    for message in found:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if (payload.get("incident_id"), payload.get("key")) == tagged:
            return str(message["ts"])
    return None
