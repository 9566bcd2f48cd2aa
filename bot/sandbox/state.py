"""The emulator's whole world: workspace, channels, messages, views and the call log.

One `Store`, one re-entrant lock. Method handlers take `store.lock` for the whole call so a
call is atomic, like a single Slack API request.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from bot.sandbox.params import JsonDict, SlackError
from bot.sandbox.workspace import UserSpec, WorkspaceSpec


@dataclass
class Channel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_general: bool = False
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    topic: JsonDict = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    purpose: JsonDict = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    previous_names: list[str] = field(default_factory=list)
    updated: int = 0


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str = ""
    bot_id: str | None = None
    blocks: list[JsonDict] | None = None
    attachments: list[JsonDict] | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    metadata: JsonDict | None = None
    files: list[str] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)
    edited: JsonDict | None = None
    username: str | None = None
    icon_emoji: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class ViewRecord:
    id: str
    user: str
    type: str
    view: JsonDict
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    closed: bool = False


@dataclass
class FileRecord:
    id: str
    name: str
    length: int
    user: str
    created: int
    title: str = ""
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)


@dataclass
class CallRecord:
    seq: int
    method: str
    args: JsonDict
    at: float
    status: int = 200
    ok: bool = False
    error: str | None = None
    fault: str | None = None
    duration: float = 0.0

    def as_dict(self) -> JsonDict:
        return {
            "seq": self.seq,
            "method": self.method,
            "args": self.args,
            "at": self.at,
            "status": self.status,
            "ok": self.ok,
            "error": self.error,
            "fault": self.fault,
            "duration": round(self.duration, 6),
        }


DRIVER_RESPONSES = 500


class Store:
    """Everything the emulator knows, guarded by `lock`."""

    def __init__(self, spec: WorkspaceSpec, *, trigger_ttl: float = 3.0) -> None:
        self.lock = threading.RLock()
        self.spec = spec
        self.trigger_ttl = trigger_ttl
        self.public_url = "http://127.0.0.1/"
        self.socket_mode_url: str | None = None
        self.bot_user = UserSpec(
            id=spec.bot.user_id,
            name=spec.bot.name,
            real_name=spec.bot.real_name,
            is_bot=True,
        )
        self.users: dict[str, UserSpec] = {u.id: u for u in spec.users}
        self.users[self.bot_user.id] = self.bot_user
        self.usergroups = {g.id: g for g in spec.usergroups}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[tuple[str, str], Message] = {}
        self.order: dict[str, list[str]] = {}
        self.dms: dict[frozenset[str], str] = {}
        self.pins: dict[str, list[JsonDict]] = {}
        self.bookmarks: dict[str, list[JsonDict]] = {}
        self.ephemerals: list[JsonDict] = []
        self.scheduled: dict[str, JsonDict] = {}
        self.views: dict[str, ViewRecord] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, tuple[str, float, bool]] = {}
        self.files: dict[str, FileRecord] = {}
        self.calls: list[CallRecord] = []
        # response_url POSTs to URLs a Driver minted (it signs requests to the app itself,
        # so no origin is known here): kept as sent, the latest DRIVER_RESPONSES of them
        self.driver_responses: deque[JsonDict] = deque(maxlen=DRIVER_RESPONSES)
        self._counter = itertools.count(1)
        self._last_ts_us = 0
        created = int(time.time())
        for c in spec.channels:
            self.channels[c.id] = Channel(
                id=c.id,
                name=c.name,
                created=created,
                creator=spec.bot.user_id,
                is_private=c.is_private,
                is_general=c.is_general,
                members=list(c.members),
                topic={"value": c.topic, "creator": "", "last_set": 0},
                purpose={"value": c.purpose, "creator": "", "last_set": 0},
            )
            self.order[c.id] = []

    # ids and clocks -----------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id: prefix + 10 upper-case base-36 characters."""
        n = next(self._counter)
        digits = ""
        while n:
            n, r = divmod(n, 36)
            digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[r] + digits
        return prefix + "0SB" + digits.rjust(7, "0")

    def next_ts(self) -> str:
        """A message ts strictly greater than every ts handed out before, workspace-wide."""
        with self.lock:
            now_us = int(time.time() * 1_000_000)
            self._last_ts_us = max(now_us, self._last_ts_us + 1)
            seconds, micros = divmod(self._last_ts_us, 1_000_000)
            return f"{seconds}.{micros:06d}"

    # lookups --------------------------------------------------------------------------

    def user(self, user_id: str, *, error: str = "user_not_found") -> UserSpec:
        found = self.users.get(user_id)
        if found is None:
            raise SlackError(error)
        return found

    def channel(self, ref: str, *, actor: str | None = None) -> Channel:
        """Resolve a channel id (or `#name`/`name`); private ones are invisible to non-members."""
        ref = ref.strip()
        found = self.channels.get(ref)
        if found is None:
            name = ref.removeprefix("#")
            found = next((c for c in self.channels.values() if c.name == name), None)
        if found is None or (
            actor is not None and (found.is_private or found.is_im) and actor not in found.members
        ):
            raise SlackError("channel_not_found")
        return found

    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def member_channel(self, ref: str, actor: str, *, writable: bool = False) -> Channel:
        """A channel the actor belongs to; `writable` also refuses archived channels."""
        channel = self.channel(ref, actor=actor)
        if writable and channel.is_archived:
            raise SlackError("is_archived")
        if actor not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def message(self, channel_id: str, ts: str) -> Message:
        found = self.messages.get((channel_id, ts))
        if found is None:
            raise SlackError("message_not_found")
        return found

    def open_dm(self, a: str, b: str) -> Channel:
        """The one direct-message channel between two users, created on first use."""
        key = frozenset((a, b))
        existing = self.dms.get(key)
        if existing is not None:
            return self.channels[existing]
        channel = Channel(
            id=self.new_id("D"),
            name="",
            created=int(time.time()),
            creator=a,
            is_im=True,
            members=sorted(key, key=lambda uid: uid != a),
        )
        self.channels[channel.id] = channel
        self.order[channel.id] = []
        self.dms[key] = channel.id
        return channel

    def remove_message(self, message: Message) -> None:
        """Take a message out of its channel (and out of its thread's replies)."""
        del self.messages[(message.channel, message.ts)]
        self.order[message.channel].remove(message.ts)
        parent = self.messages.get((message.channel, message.thread_ts or ""))
        if parent is not None and message.ts in parent.replies:
            parent.replies.remove(message.ts)

    def add_message(self, message: Message) -> Message:
        self.messages[(message.channel, message.ts)] = message
        self.order.setdefault(message.channel, []).append(message.ts)
        if message.is_reply and message.thread_ts is not None:
            parent = self.messages.get((message.channel, message.thread_ts))
            if parent is not None:
                parent.replies.append(message.ts)
        return message

    def thread(self, channel_id: str, parent_ts: str) -> list[Message]:
        parent = self.message(channel_id, parent_ts)
        return [parent, *(self.messages[(channel_id, ts)] for ts in parent.replies)]

    def start_call(self, method: str, args: JsonDict) -> CallRecord:
        """Log a call as it arrives; the HTTP layer fills in the outcome when it answers."""
        with self.lock:
            call = CallRecord(seq=len(self.calls) + 1, method=method, args=args, at=time.time())
            self.calls.append(call)
            return call
