"""Read-only views of the emulator's state for tests, the demo and the sandbox page.

Plain JSON-able dicts, built under the store lock, so a caller never sees a half-done call.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.params import JsonDict
from bot.sandbox.state import Channel, Message, Store, ViewRecord


def message_view(store: Store, message: Message, *, with_replies: bool = True) -> JsonDict:
    pinned = any(p["ts"] == message.ts for p in store.pins.get(message.channel, []))
    out: JsonDict = {
        "channel": message.channel,
        "ts": message.ts,
        "user": message.user,
        "bot": message.bot_id is not None,
        "text": message.text,
        "blocks": message.blocks,
        "attachments": message.attachments,
        "thread_ts": message.thread_ts,
        "reply_broadcast": message.reply_broadcast,
        "metadata": message.metadata,
        "reactions": {name: list(users) for name, users in message.reactions.items()},
        "files": [
            {"id": fid, "name": store.files[fid].name, "title": store.files[fid].title}
            for fid in message.files
        ],
        "edited": message.edited,
        "pinned": pinned,
    }
    if with_replies and not message.is_reply:
        out["replies"] = [
            message_view(store, store.messages[(message.channel, ts)], with_replies=False)
            for ts in message.replies
        ]
    return out


def channel_summary(store: Store, channel: Channel) -> JsonDict:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_private": channel.is_private,
        "is_im": channel.is_im,
        "is_archived": channel.is_archived,
        "creator": channel.creator,
        "created": channel.created,
        "members": list(channel.members),
        "topic": channel.topic["value"],
        "purpose": channel.purpose["value"],
        "previous_names": list(channel.previous_names),
        "message_count": len(store.order.get(channel.id, [])),
    }


def channels(store: Store, *, include_ims: bool = False) -> list[JsonDict]:
    with store.lock:
        return [
            channel_summary(store, c) for c in store.channels.values() if include_ims or not c.is_im
        ]


def find_channel(store: Store, ref: str) -> Channel:
    """A channel by id, `#name` or name; KeyError if there is none."""
    with store.lock:
        found = store.channels.get(ref) or store.channel_by_name(ref.removeprefix("#"))
        if found is None:
            raise KeyError(ref)
        return found


def transcript(store: Store, ref: str) -> list[JsonDict]:
    """Top-level messages oldest first, each with its thread replies under "replies"."""
    with store.lock:
        channel = find_channel(store, ref)
        return [
            message_view(store, store.messages[(channel.id, ts)])
            for ts in store.order.get(channel.id, [])
            if not store.messages[(channel.id, ts)].is_reply
        ]


def dms(store: Store, user: str | None = None) -> dict[str, list[JsonDict]]:
    """What the bot and each user said in their DM, keyed by the user's id."""
    bot = store.spec.bot.user_id
    out: dict[str, list[JsonDict]] = {}
    with store.lock:
        for pair, channel_id in store.dms.items():
            if bot not in pair:
                continue
            other = next(iter(pair - {bot}), bot)
            if user is not None and other != user:
                continue
            out[other] = [
                message_view(store, store.messages[(channel_id, ts)])
                for ts in store.order.get(channel_id, [])
                if not store.messages[(channel_id, ts)].is_reply
            ]
    return out


def pins(store: Store, ref: str) -> list[JsonDict]:
    with store.lock:
        channel = find_channel(store, ref)
        return [
            {**pin, "text": store.messages[(channel.id, pin["ts"])].text}
            for pin in store.pins.get(channel.id, [])
        ]


def bookmarks(store: Store, ref: str) -> list[JsonDict]:
    with store.lock:
        return [dict(b) for b in store.bookmarks.get(find_channel(store, ref).id, [])]


def ephemerals(store: Store, user: str | None = None, channel: str | None = None) -> list[JsonDict]:
    with store.lock:
        return [
            dict(e)
            for e in store.ephemerals
            if (user is None or e["user"] == user) and (channel is None or e["channel"] == channel)
        ]


def _view_entry(record: ViewRecord, stack: list[str]) -> JsonDict:
    return {
        "id": record.id,
        "user": record.user,
        "type": record.type,
        "hash": record.hash,
        "callback_id": record.view.get("callback_id", ""),
        "private_metadata": record.view.get("private_metadata", ""),
        "root_view_id": record.root_view_id,
        "previous_view_id": record.previous_view_id,
        "stack_depth": stack.index(record.id) + 1 if record.id in stack else 0,
        "view": record.view,
    }


def views(store: Store, user: str | None = None) -> list[JsonDict]:
    """Open modals (bottom of each user's stack first) and published home tabs."""
    with store.lock:
        return [
            _view_entry(r, store.view_stacks.get(r.user, []))
            for r in store.views.values()
            if not r.closed and (user is None or r.user == user)
        ]


def scheduled(store: Store) -> list[JsonDict]:
    with store.lock:
        return [
            {
                "id": sid,
                "post_at": entry["post_at"],
                "channel": entry["message"].channel,
                "text": entry["message"].text,
            }
            for sid, entry in store.scheduled.items()
        ]


def calls(store: Store, method: str | None = None, since: int = 0) -> list[JsonDict]:
    with store.lock:
        return [
            c.as_dict()
            for c in store.calls
            if c.seq > since and (method is None or c.method == method)
        ]


def workspace(store: Store) -> JsonDict:
    with store.lock:
        return {
            "team": store.spec.team.model_dump(),
            "bot": store.spec.bot.model_dump(),
            "users": [u.model_dump() for u in store.users.values()],
            "usergroups": [
                {**g.model_dump(), "users": list(g.users)} for g in store.usergroups.values()
            ],
        }


def to_jsonable(value: Any) -> Any:
    """Tuples to lists, recursively (pydantic dumps tuples as tuples)."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value
