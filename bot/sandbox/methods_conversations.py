"""conversations.*: channels with real membership, Slack's naming rules, history and threads."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from bot.sandbox.params import Ctx, JsonDict, SlackError, page
from bot.sandbox.shapes import channel_obj, message_obj
from bot.sandbox.state import Channel, Message, Store

_NAME_CHARS = re.compile(r"^[a-z0-9_-]+$")
MAX_NAME = 80


def check_name(store: Store, name: str, *, current: Channel | None = None) -> None:
    """Apply Slack's channel-name rules; raise the error code Slack would give."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > MAX_NAME:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_CHARS.match(name):
        raise SlackError("invalid_name_specials")
    if not re.search(r"[a-z0-9]", name):
        raise SlackError("invalid_name_punctuation")
    taken = store.channel_by_name(name)
    if taken is not None and taken is not current:
        raise SlackError("name_taken")


def _channel_reply(store: Store, ctx: Ctx, channel: Channel) -> JsonDict:
    return {"ok": True, "channel": channel_obj(store, channel, ctx.actor)}


def create(store: Store, ctx: Ctx) -> JsonDict:
    name = ctx.args.text("name")
    check_name(store, name)
    now = int(time.time())
    channel = Channel(
        id=store.new_id("C"),
        name=name,
        created=now,
        creator=ctx.actor,
        is_private=ctx.args.flag("is_private"),
        members=[ctx.actor],
    )
    store.channels[channel.id] = channel
    store.order[channel.id] = []
    return _channel_reply(store, ctx, channel)


def open_(store: Store, ctx: Ctx) -> JsonDict:
    if "channel" in ctx.args:
        channel = store.member_channel(ctx.args.text("channel"), ctx.actor)
    else:
        users = ctx.args.csv("users")
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_supported", detail="group DMs are not emulated")
        other = store.user(users[0])
        if other.deleted:  # Slack's answer for a deactivated account
            raise SlackError("user_disabled")
        if other.is_bot and other.id != ctx.actor:
            raise SlackError("cannot_dm_bot")
        channel = store.open_dm(ctx.actor, users[0])
    if ctx.args.flag("return_im"):
        return {"ok": True, "channel": channel_obj(store, channel, ctx.actor)}
    return {"ok": True, "channel": {"id": channel.id}}


def invite(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.member_channel(
        ctx.args.text("channel", missing="channel_not_found"), ctx.actor, writable=True
    )
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    users = ctx.args.csv("users")
    if not users:
        raise SlackError("no_user")
    errors = []
    for uid in users:
        if uid == ctx.actor:
            errors.append({"user": uid, "ok": False, "error": "cant_invite_self"})
        elif uid not in store.users:
            errors.append({"user": uid, "ok": False, "error": "user_not_found"})
        elif uid in channel.members:
            errors.append({"user": uid, "ok": False, "error": "already_in_channel"})
    if errors:
        raise SlackError(str(errors[0]["error"]), errors=errors)
    channel.members.extend(users)
    return _channel_reply(store, ctx, channel)


def join(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.channel(ctx.args.text("channel", missing="channel_not_found"), actor=ctx.actor)
    if channel.is_private or channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    if ctx.actor in channel.members:
        reply = _channel_reply(store, ctx, channel)
        return {
            **reply,
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.append(ctx.actor)
    return _channel_reply(store, ctx, channel)


def _set_text(field: str) -> Callable[[Store, Ctx], JsonDict]:
    def handler(store: Store, ctx: Ctx) -> JsonDict:
        ref = ctx.args.text("channel", missing="channel_not_found")
        channel = store.member_channel(ref, ctx.actor, writable=True)
        value = ctx.args.text(field)
        if len(value) > 250:
            raise SlackError("too_long")
        setattr(
            channel, field, {"value": value, "creator": ctx.actor, "last_set": int(time.time())}
        )
        return _channel_reply(store, ctx, channel)

    return handler


def archive(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.channel(ctx.args.text("channel", missing="channel_not_found"), actor=ctx.actor)
    if channel.is_archived:
        raise SlackError("already_archived")
    if channel.is_general:
        raise SlackError("cant_archive_general")
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if ctx.actor not in channel.members:
        raise SlackError("not_in_channel")
    channel.is_archived = True
    return {"ok": True}


def rename(store: Store, ctx: Ctx) -> JsonDict:
    ref = ctx.args.text("channel", missing="channel_not_found")
    channel = store.member_channel(ref, ctx.actor, writable=True)
    name = ctx.args.text("name")
    check_name(store, name, current=channel)
    if name != channel.name:
        channel.previous_names.insert(0, channel.name)
        channel.name = name
    return _channel_reply(store, ctx, channel)


def info(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.channel(ctx.args.text("channel", missing="channel_not_found"), actor=ctx.actor)
    wanted = ctx.args.flag("include_num_members")
    return {"ok": True, "channel": channel_obj(store, channel, ctx.actor, num_members=wanted)}


def members(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.channel(ctx.args.text("channel", missing="channel_not_found"), actor=ctx.actor)
    chunk, cursor = page(channel.members, ctx.args)
    return {"ok": True, "members": chunk, "response_metadata": {"next_cursor": cursor}}


def _window(messages: list[Message], ctx: Ctx) -> list[Message]:
    oldest = float(ctx.args.text("oldest") or 0)
    latest = float(ctx.args.text("latest") or "inf")
    inclusive = ctx.args.flag("inclusive")

    def inside(m: Message) -> bool:
        ts = float(m.ts)
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [m for m in messages if inside(m)]


def history(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.member_channel(ctx.args.text("channel", missing="channel_not_found"), ctx.actor)
    top = [
        store.messages[(channel.id, ts)]
        for ts in reversed(store.order.get(channel.id, []))
        if not store.messages[(channel.id, ts)].is_reply
        or store.messages[(channel.id, ts)].reply_broadcast
    ]
    chunk, cursor = page(_window(top, ctx), ctx.args)
    meta = ctx.args.flag("include_all_metadata")
    reply: JsonDict = {
        "ok": True,
        "messages": [message_obj(store, m, "history", metadata=meta) for m in chunk],
        "has_more": bool(cursor),
    }
    if cursor:
        reply["response_metadata"] = {"next_cursor": cursor}
    return reply


def replies(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.member_channel(ctx.args.text("channel", missing="channel_not_found"), ctx.actor)
    ts = ctx.args.text("ts", missing="invalid_arguments")
    found = store.messages.get((channel.id, ts))
    if found is None:
        raise SlackError("thread_not_found")
    parent_ts = found.thread_ts if found.is_reply and found.thread_ts else ts
    chunk, cursor = page(
        _window(store.thread(channel.id, parent_ts), ctx), ctx.args, default_limit=1000
    )
    meta = ctx.args.flag("include_all_metadata")
    reply: JsonDict = {
        "ok": True,
        "messages": [message_obj(store, m, "replies", metadata=meta) for m in chunk],
        "has_more": bool(cursor),
    }
    if cursor:
        reply["response_metadata"] = {"next_cursor": cursor}
    return reply


METHODS: dict[str, Callable[[Store, Ctx], JsonDict]] = {
    "conversations.create": create,
    "conversations.open": open_,
    "conversations.invite": invite,
    "conversations.join": join,
    "conversations.setTopic": _set_text("topic"),
    "conversations.setPurpose": _set_text("purpose"),
    "conversations.archive": archive,
    "conversations.rename": rename,
    "conversations.info": info,
    "conversations.members": members,
    "conversations.history": history,
    "conversations.replies": replies,
}
