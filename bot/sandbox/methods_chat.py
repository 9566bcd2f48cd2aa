"""chat.*: posting, threads, updates, ephemerals, scheduled messages and permalinks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.sandbox.blocks import check_text, message_blocks
from bot.sandbox.params import Ctx, JsonDict, SlackError
from bot.sandbox.shapes import message_obj
from bot.sandbox.state import Channel, Message, Store

MAX_SCHEDULE_AHEAD = 120 * 24 * 3600
MAX_ATTACHMENTS = 100


def target_channel(store: Store, ref: str, actor: str) -> Channel:
    """Where a post goes: a channel the actor is in, or the DM with a user id."""
    if not ref:
        raise SlackError("channel_not_found")
    if ref[0] in "UW" and ref in store.users:
        return store.open_dm(actor, ref)
    return store.member_channel(ref, actor, writable=True)


def _metadata(raw: Any) -> JsonDict | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("event_type"), str)
        or not isinstance(raw.get("event_payload", {}), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": raw["event_type"], "event_payload": raw.get("event_payload", {})}


def _attachments(raw: Any) -> list[JsonDict] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise SlackError("invalid_attachments")
    if len(raw) > MAX_ATTACHMENTS:
        raise SlackError("too_many_attachments")
    return raw


def _blocks_arg(ctx: Ctx) -> object:
    try:
        raw = ctx.args.parsed("blocks")
    except SlackError as exc:
        raise SlackError("invalid_blocks_format") from exc
    if raw is not None and not isinstance(raw, list):
        raise SlackError("invalid_blocks_format")
    return raw


def _content(ctx: Ctx) -> tuple[str, list[JsonDict] | None, list[JsonDict] | None]:
    text = ctx.args.text("text")
    blocks = message_blocks(_blocks_arg(ctx))
    attachments = _attachments(ctx.args.parsed("attachments"))
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    check_text(text)
    return text, blocks, attachments


def _thread_parent(store: Store, channel: Channel, thread_ts: str | None) -> str | None:
    if not thread_ts:
        return None
    parent = store.messages.get((channel.id, thread_ts))
    if parent is None:
        raise SlackError("thread_not_found")
    return parent.thread_ts if parent.is_reply else parent.ts


def build_message(store: Store, ctx: Ctx, channel: Channel) -> Message:
    """Validate a post's arguments and build (but do not store) the message."""
    text, blocks, attachments = _content(ctx)
    metadata = _metadata(ctx.args.parsed("metadata"))
    thread_ts = _thread_parent(store, channel, ctx.args.opt("thread_ts"))
    is_bot = ctx.actor == store.spec.bot.user_id
    return Message(
        channel=channel.id,
        ts="",
        user=ctx.actor,
        text=text,
        bot_id=store.spec.bot.bot_id if is_bot else None,
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts,
        reply_broadcast=bool(thread_ts) and ctx.args.flag("reply_broadcast"),
        metadata=metadata,
        username=ctx.args.opt("username") if is_bot else None,
        icon_emoji=ctx.args.opt("icon_emoji") if is_bot else None,
    )


def post_message(store: Store, ctx: Ctx) -> JsonDict:
    channel = target_channel(store, ctx.args.text("channel"), ctx.actor)
    message = build_message(store, ctx, channel)
    message.ts = store.next_ts()
    store.add_message(message)
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "message": message_obj(store, message, "post"),
    }


def update(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.channel(ctx.args.text("channel", missing="channel_not_found"), actor=ctx.actor)
    message = store.message(channel.id, ctx.args.text("ts", missing="message_not_found"))
    if message.user != ctx.actor:
        raise SlackError("cant_update_message")
    if channel.is_archived:
        raise SlackError("is_archived")
    text = ctx.args.text("text") if "text" in ctx.args.raw else message.text
    blocks = message.blocks
    if "blocks" in ctx.args.raw:
        blocks = message_blocks(_blocks_arg(ctx) or [])
    attachments = message.attachments
    if "attachments" in ctx.args.raw:
        attachments = _attachments(ctx.args.parsed("attachments") or [])
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    check_text(text)
    message.text, message.blocks, message.attachments = text, blocks, attachments or None
    if "metadata" in ctx.args:
        message.metadata = _metadata(ctx.args.parsed("metadata"))
    if message.bot_id is None:
        message.edited = {"user": ctx.actor, "ts": store.next_ts()}
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message_obj(store, message, "update"),
    }


def post_ephemeral(store: Store, ctx: Ctx) -> JsonDict:
    channel = target_channel(store, ctx.args.text("channel"), ctx.actor)
    user = ctx.args.text("user", missing="user_not_found")
    store.user(user)
    if user not in channel.members:
        raise SlackError("user_not_in_channel")
    message = build_message(store, ctx, channel)
    ts = store.next_ts()
    store.ephemerals.append(
        {
            "channel": channel.id,
            "user": user,
            "ts": ts,
            "text": message.text,
            "blocks": message.blocks,
            "thread_ts": message.thread_ts,
            "at": time.time(),
        }
    )
    return {"ok": True, "message_ts": ts}


def schedule_message(store: Store, ctx: Ctx) -> JsonDict:
    channel = target_channel(store, ctx.args.text("channel"), ctx.actor)
    post_at = ctx.args.number("post_at", 0)
    if post_at <= 0:
        raise SlackError("invalid_time")
    now = time.time()
    if post_at < now:
        raise SlackError("time_in_past")
    if post_at > now + MAX_SCHEDULE_AHEAD:
        raise SlackError("time_too_far")
    message = build_message(store, ctx, channel)
    scheduled_id = store.new_id("Q")
    store.scheduled[scheduled_id] = {"id": scheduled_id, "post_at": post_at, "message": message}
    return {
        "ok": True,
        "scheduled_message_id": scheduled_id,
        "channel": channel.id,
        "post_at": post_at,
        "message": message_obj(store, message, "schedule"),
    }


def delete_scheduled(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.channel(ctx.args.text("channel", missing="channel_not_found"), actor=ctx.actor)
    scheduled_id = ctx.args.text("scheduled_message_id", missing="invalid_scheduled_message_id")
    entry = store.scheduled.get(scheduled_id)
    if entry is None or entry["message"].channel != channel.id:
        raise SlackError("invalid_scheduled_message_id")
    del store.scheduled[scheduled_id]
    return {"ok": True}


def deliver_due(store: Store, now: float) -> list[Message]:
    """Post every scheduled message whose time has come; returns what was posted."""
    posted = []
    with store.lock:
        for scheduled_id, entry in sorted(store.scheduled.items(), key=lambda kv: kv[1]["post_at"]):
            if entry["post_at"] > now:
                continue
            del store.scheduled[scheduled_id]
            message: Message = entry["message"]
            message.ts = store.next_ts()
            posted.append(store.add_message(message))
    return posted


def permalink(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.channel(ctx.args.text("channel", missing="channel_not_found"), actor=ctx.actor)
    message = store.message(channel.id, ctx.args.text("message_ts", missing="message_not_found"))
    link = f"{store.public_url}archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": link}


METHODS: dict[str, Callable[[Store, Ctx], JsonDict]] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "chat.scheduleMessage": schedule_message,
    "chat.deleteScheduledMessage": delete_scheduled,
    "chat.getPermalink": permalink,
}
