"""auth, users, usergroups, pins, bookmarks, reactions, files and Socket Mode connections."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from bot.sandbox.params import Ctx, JsonDict, SlackError, invalid_arguments, page
from bot.sandbox.shapes import file_obj, user_obj
from bot.sandbox.state import FileRecord, Message, Store

_EMOJI = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-[2-6])?$")
MAX_UPLOAD = 1024 * 1024 * 1024


def auth_test(store: Store, ctx: Ctx) -> JsonDict:
    user = store.user(ctx.actor)
    reply: JsonDict = {
        "ok": True,
        "url": f"{store.public_url}",
        "team": store.spec.team.name,
        "user": user.name,
        "team_id": store.spec.team.id,
        "user_id": user.id,
        "is_enterprise_install": False,
    }
    if user.is_bot:
        reply["bot_id"] = store.spec.bot.bot_id
    return reply


def users_info(store: Store, ctx: Ctx) -> JsonDict:
    user = store.user(ctx.args.text("user", missing="user_not_found"))
    return {"ok": True, "user": user_obj(store, user)}


def users_list(store: Store, ctx: Ctx) -> JsonDict:
    everyone = [store.users[uid] for uid in sorted(store.users)]
    chunk, cursor = page(everyone, ctx.args, default_limit=200)
    return {
        "ok": True,
        "members": [user_obj(store, u) for u in chunk],
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": cursor},
    }


def users_lookup_by_email(store: Store, ctx: Ctx) -> JsonDict:
    email = ctx.args.text("email", missing="invalid_arguments").lower()
    for user in store.users.values():
        if user.email.lower() == email and not user.deleted:
            return {"ok": True, "user": user_obj(store, user)}
    raise SlackError("users_not_found")


def usergroups_list(store: Store, ctx: Ctx) -> JsonDict:
    include_users = ctx.args.flag("include_users")
    groups = []
    for group in store.usergroups.values():
        obj: JsonDict = {
            "id": group.id,
            "team_id": store.spec.team.id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": group.name,
            "description": group.description,
            "handle": group.handle,
            "is_external": False,
            "date_create": 0,
            "date_update": 0,
            "date_delete": 0,
            "auto_provision": False,
            "created_by": store.spec.bot.user_id,
            "updated_by": store.spec.bot.user_id,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(group.users),
        }
        if include_users:
            obj["users"] = list(group.users)
        groups.append(obj)
    return {"ok": True, "usergroups": groups}


def usergroups_users_list(store: Store, ctx: Ctx) -> JsonDict:
    group = store.usergroups.get(ctx.args.text("usergroup", missing="invalid_arguments"))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"ok": True, "users": list(group.users)}


def pins_add(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.member_channel(ctx.args.text("channel", missing="channel_not_found"), ctx.actor)
    message = store.message(channel.id, ctx.args.text("timestamp", missing="no_item_specified"))
    pins = store.pins.setdefault(channel.id, [])
    if any(p["ts"] == message.ts for p in pins):
        raise SlackError("already_pinned")
    pins.append({"ts": message.ts, "pinned_by": ctx.actor, "at": time.time()})
    return {"ok": True}


def bookmarks_add(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.member_channel(
        ctx.args.text("channel_id", missing="channel_not_found"), ctx.actor
    )
    title = ctx.args.text("title", missing="invalid_arguments")
    kind = ctx.args.text("type", missing="invalid_arguments")
    if kind != "link":
        raise SlackError("invalid_bookmark_type")
    link = ctx.args.text("link")
    if not re.match(r"^https?://\S+$", link):
        raise SlackError("invalid_link")
    now = int(time.time())
    bookmark: JsonDict = {
        "id": store.new_id("Bk"),
        "channel_id": channel.id,
        "title": title,
        "link": link,
        "emoji": ctx.args.text("emoji"),
        "icon_url": "",
        "type": "link",
        "entity_id": ctx.args.text("entity_id"),
        "date_created": now,
        "date_updated": 0,
        "rank": "U",
        "last_updated_by_user_id": ctx.actor,
        "last_updated_by_team_id": store.spec.team.id,
        "shortcut_id": "",
        "app_id": store.spec.bot.app_id,
    }
    store.bookmarks.setdefault(channel.id, []).append(bookmark)
    return {"ok": True, "bookmark": dict(bookmark)}


def reactions_add(store: Store, ctx: Ctx) -> JsonDict:
    channel = store.member_channel(ctx.args.text("channel", missing="channel_not_found"), ctx.actor)
    message = store.message(channel.id, ctx.args.text("timestamp", missing="no_item_specified"))
    name = ctx.args.text("name", missing="invalid_name").strip(":")
    if not _EMOJI.match(name):
        raise SlackError("invalid_name")
    users = message.reactions.setdefault(name, [])
    if ctx.actor in users:
        raise SlackError("already_reacted")
    users.append(ctx.actor)
    return {"ok": True}


def files_delete(store: Store, ctx: Ctx) -> JsonDict:
    """Delete a file its uploader shared: as in Slack, the message that shared it goes too
    (one with replies stays, saying so)."""
    record = store.files.get(ctx.args.text("file", missing="file_not_found"))
    if record is None:
        raise SlackError("file_not_found")
    if record.user != ctx.actor:
        raise SlackError("cant_delete_file")
    del store.files[record.id]
    for message in list(store.messages.values()):
        if record.id not in message.files:
            continue
        message.files.remove(record.id)
        if message.files:
            continue
        if message.replies:
            message.text = "This file was deleted."
        else:
            store.remove_message(message)
    return {"ok": True}


def get_upload_url(store: Store, ctx: Ctx) -> JsonDict:
    name = ctx.args.text("filename", missing="invalid_arguments")
    length = ctx.args.number("length", -1)
    if length < 0:
        raise invalid_arguments("[ERROR] missing required field: length")
    if length > MAX_UPLOAD:
        raise SlackError("file_too_large")
    record = FileRecord(
        id=store.new_id("F"),
        name=name,
        length=length,
        user=ctx.actor,
        created=int(time.time()),
    )
    store.files[record.id] = record
    return {
        "ok": True,
        "upload_url": f"{store.public_url}sandbox/upload/{record.id}",
        "file_id": record.id,
    }


def complete_upload(store: Store, ctx: Ctx) -> JsonDict:
    wanted = ctx.args.parsed("files")
    if not isinstance(wanted, list) or not wanted:
        raise invalid_arguments("[ERROR] missing required field: files")
    records = []
    for item in wanted:
        record = store.files.get(str(item.get("id", ""))) if isinstance(item, dict) else None
        if record is None or record.content is None:
            raise SlackError("file_not_found")
        record.title = str(item.get("title") or record.title or record.name)
        records.append(record)
    ref = ctx.args.opt("channel_id") or next(iter(ctx.args.csv("channels")), None)
    if ref:
        channel = store.member_channel(ref, ctx.actor, writable=True)
        thread_ts = ctx.args.opt("thread_ts")
        if thread_ts:
            store.message(channel.id, thread_ts)
        message = Message(
            channel=channel.id,
            ts=store.next_ts(),
            user=ctx.actor,
            text=ctx.args.text("initial_comment"),
            thread_ts=thread_ts,
            files=[r.id for r in records],
        )
        for record in records:
            record.channels.append(channel.id)
        store.add_message(message)
    return {"ok": True, "files": [file_obj(store, r) for r in records]}


def connections_open(store: Store, ctx: Ctx) -> JsonDict:
    if not store.socket_mode_url:
        raise SlackError("socket_mode_not_enabled")
    return {"ok": True, "url": store.socket_mode_url}


Method = Callable[[Store, Ctx], JsonDict]
METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "pins.add": pins_add,
    "bookmarks.add": bookmarks_add,
    "reactions.add": reactions_add,
    "files.delete": files_delete,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
APP_TOKEN_METHODS: dict[str, Method] = {"apps.connections.open": connections_open}
