"""What Slack does with an app's answers: ack bodies, response_url posts and view responses.

A slash command's HTTP answer and a POST to a `response_url` are both "message responses":
`{text, blocks, response_type, replace_original, delete_original}`. A `view_submission`'s
answer is a "view response": empty closes the view, `response_action` says what else to do.
These functions apply such answers to the emulator's store, under its lock.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from bot.sandbox.blocks import check_text, message_blocks, view_payload
from bot.sandbox.methods_views import MAX_STACK, close_view
from bot.sandbox.params import JsonDict, SlackError
from bot.sandbox.state import Message, Store, ViewRecord

MAX_RESPONSE_USES = 5  # Slack accepts five posts to one response_url (within 30 minutes)
RESPONSE_URL_TTL = 30 * 60


@dataclass
class Origin:
    """Where a response_url's answers go: the user who acted, where, and on what message."""

    user: str
    channel: str
    ts: str | None = None  # the clicked message; None for slash commands
    thread_ts: str | None = None
    ephemeral: bool = False  # the clicked message was an ephemeral one
    minted: float = 0.0
    uses: int = 0


def parse_body(text: str, parsed: Any) -> JsonDict | None:
    """An app's HTTP answer as a message response; None when the body is empty."""
    if isinstance(parsed, dict):
        return parsed
    if text.strip():
        return {"text": text}  # a plain-text answer is shown as an ephemeral message
    return None


def add_ephemeral(store: Store, origin: Origin, text: str, blocks: Any = None) -> JsonDict:
    """Record a message only `origin.user` sees, as chat.postEphemeral does."""
    with store.lock:
        entry: JsonDict = {
            "channel": origin.channel,
            "user": origin.user,
            "ts": store.next_ts(),
            "text": text,
            "blocks": blocks,
            "thread_ts": origin.thread_ts,
            "at": time.time(),
        }
        store.ephemerals.append(entry)
        return entry


def _bot_message(store: Store, origin: Origin, text: str, blocks: Any) -> Message:
    message = Message(
        channel=origin.channel,
        ts=store.next_ts(),
        user=store.spec.bot.user_id,
        text=text,
        bot_id=store.spec.bot.bot_id,
        blocks=blocks,
        thread_ts=origin.thread_ts,
    )
    return store.add_message(message)


def _find_ephemeral(store: Store, origin: Origin) -> JsonDict:
    for entry in store.ephemerals:
        if entry["ts"] == origin.ts and entry["user"] == origin.user:
            return entry
    raise SlackError("message_not_found")


def _delete(store: Store, origin: Origin) -> None:
    if origin.ephemeral:
        store.ephemerals.remove(_find_ephemeral(store, origin))
        return
    if origin.ts is None:
        raise ValueError(f"a message in {origin.channel} to delete has no ts")
    message = store.message(origin.channel, origin.ts)
    del store.messages[(message.channel, message.ts)]
    store.order[message.channel].remove(message.ts)
    parent = store.messages.get((message.channel, message.thread_ts or ""))
    if parent is not None and message.ts in parent.replies:
        parent.replies.remove(message.ts)
    pins = store.pins.get(message.channel, [])
    pins[:] = [p for p in pins if p["ts"] != message.ts]


def apply_message_response(store: Store, origin: Origin, body: JsonDict) -> str:
    """Apply one message response; returns what happened (for the caller's log)."""
    with store.lock:
        if body.get("delete_original") and origin.ts is not None:
            _delete(store, origin)
            return "deleted"
        text = str(body.get("text") or "")
        check_text(text)
        blocks = message_blocks(body.get("blocks"))
        if not text and not blocks:
            raise SlackError("no_text")
        if body.get("replace_original") and origin.ts is not None:
            if origin.ephemeral:
                _find_ephemeral(store, origin).update(text=text, blocks=blocks)
            else:
                original = store.message(origin.channel, origin.ts)
                original.text, original.blocks = text, blocks
            return "replaced"
        if body.get("response_type") == "in_channel":
            _bot_message(store, origin, text, blocks)
            return "posted"
        add_ephemeral(store, origin, text, blocks)
        return "ephemeral"


def use_response_url(origin: Origin, now: float) -> None:
    """Count one post to a response_url; refuse expired or used-up URLs as Slack does."""
    if now - origin.minted > RESPONSE_URL_TTL:
        raise SlackError("expired_url")
    if origin.uses >= MAX_RESPONSE_USES:
        raise SlackError("used_url")
    origin.uses += 1


def _push(store: Store, record: ViewRecord, view: JsonDict) -> ViewRecord:
    stack = store.view_stacks.setdefault(record.user, [])
    if len(stack) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    pushed = ViewRecord(
        id=store.new_id("V"),
        user=record.user,
        type=view["type"],
        view=view,
        hash=new_hash(),
        root_view_id=record.root_view_id,
        previous_view_id=stack[-1] if stack else record.id,
    )
    store.views[pushed.id] = pushed
    stack.append(pushed.id)
    return pushed


def new_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def apply_view_response(
    store: Store, record: ViewRecord, body: JsonDict | None, errors: dict[str, JsonDict]
) -> str:
    """Apply a view_submission answer to the submitted view; `errors` holds shown errors."""
    action = (body or {}).get("response_action")
    with store.lock:
        errors.pop(record.id, None)
        if action is None:
            close_view(store, record.id)
            return "closed"
        if action == "errors":
            shown = body.get("errors") if body else None
            if not isinstance(shown, dict):
                raise SlackError("invalid_arguments")
            errors[record.id] = {str(k): str(v) for k, v in shown.items()}
            return "errors"
        if action == "clear":
            close_view(store, record.root_view_id)
            return "cleared"
        view = view_payload((body or {}).get("view"))
        if action == "update":
            record.view, record.type, record.hash = view, view["type"], new_hash()
            return "updated"
        if action == "push":
            _push(store, record, view)
            return "pushed"
        raise SlackError("invalid_arguments")
