"""Response shaping: turn stored records into the objects Slack returns.

Each shape uses only keys present in the key-union samples of real Slack responses
(tests/fixtures/slack-reference/api/*.json); tests/sandbox/test_contract.py holds us to that.
Where one record appears in several methods with different key sets (a message in
chat.postMessage vs chat.update vs conversations.replies), a per-use allow-list trims it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.sandbox.params import JsonDict
from bot.sandbox.state import Channel, FileRecord, Message, Store, ViewRecord
from bot.sandbox.workspace import UserSpec


def _keys(names: str) -> frozenset[str]:
    return frozenset(names.split())


_ROOT_KEYS = _keys(
    "type subtype text ts username icons bot_id thread_ts parent_user_id reply_count "
    "reply_users_count latest_reply reply_users subscribed"
)
_MESSAGE_KEYS = {
    "post": _keys(
        "bot_id type text user ts team bot_profile thread_ts parent_user_id subtype username "
        "icons root app_id metadata attachments blocks"
    ),
    "update": _keys(
        "bot_id type text user team bot_profile edited upload display_as_bot app_id metadata "
        "files blocks"
    ),
    "schedule": _keys("bot_id type text user team bot_profile app_id metadata blocks"),
    "history": _keys(
        "type subtype text bot_id ts thread_ts root username icons parent_user_id reply_count "
        "reply_users_count latest_reply reply_users subscribed user team bot_profile upload "
        "display_as_bot edited reactions app_id metadata files blocks attachments"
    ),
    "replies": _keys(
        "bot_id type text user ts team bot_profile thread_ts reply_count reply_users_count "
        "latest_reply reply_users subscribed parent_user_id upload display_as_bot app_id "
        "edited reactions metadata blocks attachments files"
    ),
}
_FILE_KEYS = _keys(
    "id created timestamp name title mimetype filetype pretty_type user user_team editable "
    "size mode is_external external_type is_public public_url_shared display_as_bot username "
    "url_private url_private_download permalink channels groups ims comments_count"
)


def channel_obj(
    store: Store, channel: Channel, actor: str, *, num_members: bool = False
) -> JsonDict:
    """A conversation object with the keys every conversations.* sample shares."""
    name = channel.name
    obj: JsonDict = {
        "id": channel.id,
        "name": name,
        "is_channel": not channel.is_private and not channel.is_im and not channel.is_mpim,
        "is_group": channel.is_private and not channel.is_mpim,
        "is_im": channel.is_im,
        "is_mpim": channel.is_mpim,
        "is_private": channel.is_private or channel.is_im,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": channel.is_general,
        "unlinked": 0,
        "name_normalized": name,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "shared_team_ids": [store.spec.team.id],
        "pending_shared": [],
        "pending_connected_team_ids": [],
        "context_team_id": store.spec.team.id,
        "creator": channel.creator,
        "is_member": actor in channel.members,
        "last_read": "0000000000.000000",
        "topic": dict(channel.topic),
        "purpose": dict(channel.purpose),
        "previous_names": list(channel.previous_names),
        "updated": channel.updated or channel.created * 1000,
    }
    if num_members:
        obj["num_members"] = len(channel.members)
    return obj


def bot_profile(store: Store) -> JsonDict:
    bot = store.spec.bot
    icon = store.public_url + "sandbox/static/bot.png"
    return {
        "id": bot.bot_id,
        "deleted": False,
        "name": bot.name,
        "updated": 0,
        "app_id": bot.app_id,
        "icons": {"image_36": icon, "image_48": icon, "image_72": icon},
        "team_id": store.spec.team.id,
    }


def _reply_fields(store: Store, message: Message) -> JsonDict:
    if not message.replies:
        return {}
    users = []
    for ts in message.replies:
        uid = store.messages[(message.channel, ts)].user
        if uid not in users:
            users.append(uid)
    return {
        "thread_ts": message.ts,
        "reply_count": len(message.replies),
        "reply_users_count": len(users),
        "latest_reply": message.replies[-1],
        "reply_users": users,
        "subscribed": False,
    }


def message_obj(store: Store, message: Message, use: str, *, metadata: bool = True) -> JsonDict:
    """A message as `use` ("post", "update", "schedule", "history", "replies") returns it."""
    obj: JsonDict = {"type": "message", "text": message.text, "user": message.user}
    obj["ts"] = message.ts
    obj["team"] = store.spec.team.id
    if message.bot_id:
        obj["bot_id"] = message.bot_id
        obj["app_id"] = store.spec.bot.app_id
        obj["bot_profile"] = bot_profile(store)
    if message.username:
        obj["username"] = message.username
    if message.icon_emoji:
        obj["icons"] = {"emoji": message.icon_emoji}
    if message.blocks is not None:
        obj["blocks"] = message.blocks
    if message.attachments:
        obj["attachments"] = message.attachments
    if message.metadata is not None and metadata:
        obj["metadata"] = message.metadata
    if message.edited is not None:
        obj["edited"] = dict(message.edited)
    if message.reactions:
        obj["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in message.reactions.items()
        ]
    if message.files:
        obj["files"] = [file_obj(store, store.files[fid]) for fid in message.files]
        obj["upload"] = True
        obj["display_as_bot"] = False
    if message.is_reply and message.thread_ts is not None:
        parent = store.messages.get((message.channel, message.thread_ts))
        obj["thread_ts"] = message.thread_ts
        obj["parent_user_id"] = parent.user if parent else message.user
        if message.reply_broadcast:
            obj["subtype"] = "thread_broadcast"
            if parent is not None:
                root = message_obj(store, parent, "history", metadata=False)
                obj["root"] = {k: v for k, v in root.items() if k in _ROOT_KEYS}
    obj.update(_reply_fields(store, message))
    allowed = _MESSAGE_KEYS[use]
    return {k: v for k, v in obj.items() if k in allowed}


def file_obj(store: Store, record: FileRecord) -> JsonDict:
    filetype = record.name.rsplit(".", 1)[-1].lower() if "." in record.name else "text"
    url = f"{store.public_url}sandbox/files/{record.id}/{record.name}"
    full: JsonDict = {
        "id": record.id,
        "created": record.created,
        "timestamp": record.created,
        "name": record.name,
        "title": record.title or record.name,
        "mimetype": "text/plain"
        if filetype in ("txt", "md", "log", "text")
        else "application/octet-stream",
        "filetype": filetype,
        "pretty_type": filetype.upper(),
        "user": record.user,
        "user_team": store.spec.team.id,
        "editable": False,
        "size": record.length,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": any(store.channels[c].is_private is False for c in record.channels),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": url,
        "url_private_download": url + "?download=1",
        "permalink": url,
        "channels": [c for c in record.channels if not store.channels[c].is_private],
        "groups": [
            c
            for c in record.channels
            if store.channels[c].is_private and not store.channels[c].is_im
        ],
        "ims": [c for c in record.channels if store.channels[c].is_im],
        "comments_count": 0,
    }
    return {k: v for k, v in full.items() if k in _FILE_KEYS}


def _tz_fields(tz: str) -> JsonDict:
    zone = ZoneInfo(tz)
    now = datetime.now(zone)
    offset = now.utcoffset()
    return {
        "tz": tz,
        "tz_label": now.tzname() or tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
    }


def user_obj(store: Store, user: UserSpec) -> JsonDict:
    """A user object with the keys users.info, users.list and users.lookupByEmail share."""
    first, _, last = user.real_name.partition(" ")
    image = f"{store.public_url}sandbox/static/avatar-{user.name}.png"
    profile: JsonDict = {
        "title": user.title,
        "phone": "",
        "skype": "",
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "avatar_hash": "sandbox",
        "first_name": first,
        "last_name": last,
        "team": store.spec.team.id,
        **{f"image_{size}": image for size in (24, 32, 48, 72, 192, 512)},
    }
    if user.email:
        profile["email"] = user.email
    if user.is_bot:
        profile["bot_id"] = store.spec.bot.bot_id
        profile["api_app_id"] = store.spec.bot.app_id
        profile["always_active"] = True
    return {
        "id": user.id,
        "team_id": store.spec.team.id,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        **_tz_fields(user.tz),
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 0,
        "is_email_confirmed": bool(user.email),
        "has_2fa": False,
    }


def view_obj(store: Store, record: ViewRecord) -> JsonDict:
    view = record.view
    obj: JsonDict = {
        "id": record.id,
        "team_id": store.spec.team.id,
        "type": record.type,
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": {}},
        "hash": record.hash,
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": record.root_view_id,
        "previous_view_id": record.previous_view_id,
        "app_id": store.spec.bot.app_id,
        "app_installed_team_id": store.spec.team.id,
        "bot_id": store.spec.bot.bot_id,
    }
    for key in ("title", "submit", "close"):
        if key in view:
            obj[key] = view[key]
    return obj
