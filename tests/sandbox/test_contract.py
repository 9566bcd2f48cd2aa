"""Contract: every emulated method answers with keys real Slack responses carry.

For each method a successful call is made with the real slack_sdk WebClient; the response's
keys must be a subset of the key-union sample in tests/fixtures/slack-reference/api/<method>.json
(recursively; list samples are merged element-wise; an empty `{}` in a sample is a free-form
object such as `metadata.event_payload`), and the keys clients read must be present.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.sandbox.api import APP_METHODS, BOT_METHODS
from bot.sandbox.emulator import Emulator

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "slack-reference" / "api"
# Methods without a reference sample: their documented minimal shape.
DOCUMENTED = {
    "conversations.open": {"ok": True, "channel": {"id": ""}},
    "apps.connections.open": {"ok": True, "url": ""},
    "files.delete": {"ok": True},
}
BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Incident"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*sev2* checkout errors"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_id": "ack",
                "value": "inc-1",
                "style": "primary",
            }
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "next update 10:30"}]},
    {"type": "divider"},
]
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "private_metadata": "{}",
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}
HOME = {"type": "home", "blocks": BLOCKS[:2]}
META = {"event_type": "incident_declared", "event_payload": {"incident_id": "inc-1"}}


def merged(sample: Any) -> Any:
    """The union of a sample list's elements (dicts merged key by key, recursively)."""
    if not isinstance(sample, list):
        return sample
    result: Any = None
    for item in sample:
        item = merged(item) if isinstance(item, list) else item
        if isinstance(item, dict) and isinstance(result, dict):
            result = _merge(result, item)
        elif result is None:
            result = dict(item) if isinstance(item, dict) else item
    return result


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = _merge(out[key], value) if key in out else value
        return out
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    if isinstance(a, dict | list) != isinstance(b, dict | list):
        return {}  # an object here, a string there (e.g. `text`): accept either
    return a


def extra_keys(response: Any, sample: Any, path: str = "") -> list[str]:
    """Paths present in `response` that the sample does not have."""
    if isinstance(sample, dict):
        if not sample:
            return []  # free-form object
        if not isinstance(response, dict):
            return []  # the samples are key unions: only keys are compared, not value types
        problems = []
        for key, value in response.items():
            where = f"{path}.{key}" if path else key
            if key not in sample:
                problems.append(where)
            else:
                problems.extend(extra_keys(value, sample[key], where))
        return problems
    if isinstance(sample, list):
        if not isinstance(response, list):
            return []
        element = merged(sample)
        if element is None:
            return []
        return [
            p for i, item in enumerate(response) for p in extra_keys(item, element, f"{path}[{i}]")
        ]
    if isinstance(response, dict | list):
        return [f"{path} (scalar expected)"]
    return []


def dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def sample_for(method: str) -> Any:
    if method in DOCUMENTED:
        return DOCUMENTED[method]
    return json.loads((REFERENCE / f"{method}.json").read_text(encoding="utf-8"))


Scenario = Callable[[Emulator, WebClient], Any]


def _channel(c: WebClient, name: str = "inc-contract") -> str:
    return str(c.conversations_create(name=name)["channel"]["id"])


def _posted(c: WebClient) -> tuple[str, str]:
    cid = _channel(c)
    ts = c.chat_postMessage(channel=cid, text="header", blocks=BLOCKS, metadata=META)["ts"]
    return cid, str(ts)


def _threaded(c: WebClient) -> tuple[str, str]:
    cid, ts = _posted(c)
    c.chat_postMessage(channel=cid, text="update 1", thread_ts=ts, metadata=META)
    c.chat_postMessage(channel=cid, text="update 2", thread_ts=ts, reply_broadcast=True)
    c.reactions_add(channel=cid, timestamp=ts, name="eyes")
    c.files_upload_v2(channel=cid, content="log line\n", filename="log.txt", title="Log")
    return cid, ts


def _upload(e: Emulator, c: WebClient) -> Any:
    cid = _channel(c)
    return c.files_upload_v2(channel=cid, content="hello", filename="notes.txt").data["files"]


def _complete(e: Emulator, c: WebClient) -> Any:
    got = c.files_getUploadURLExternal(filename="a.txt", length=2)
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(got["upload_url"], data=b"hi", method="POST"))  # noqa: S310
    return c.files_completeUploadExternal(
        files=[{"id": got["file_id"], "title": "A"}], channel_id="C0INCIDENTS"
    )


def _socket(e: Emulator, c: WebClient) -> Any:
    e.socket_mode_url = "ws://127.0.0.1:1/link"
    return WebClient(token=e.app_token, base_url=e.url).apps_connections_open(app_token=e.app_token)


def _opened_view(e: Emulator, c: WebClient) -> Any:
    return c.views_open(trigger_id=e.mint_trigger_id("U0ALICE01"), view=MODAL)


SCENARIOS: dict[str, tuple[Scenario, tuple[str, ...]]] = {
    "auth.test": (lambda e, c: c.auth_test(), ("ok", "user_id", "bot_id", "team_id")),
    "conversations.create": (
        lambda e, c: c.conversations_create(name="inc-a"),
        ("ok", "channel.id", "channel.name"),
    ),
    "conversations.open": (
        lambda e, c: c.conversations_open(users="U0ALICE01"),
        ("ok", "channel.id"),
    ),
    "conversations.invite": (
        lambda e, c: c.conversations_invite(channel=_channel(c), users="U0ALICE01,U0BOB0001"),
        ("ok", "channel.id"),
    ),
    "conversations.join": (
        lambda e, c: c.conversations_join(channel="C0GENERAL"),
        ("ok", "channel.id"),
    ),
    "conversations.setTopic": (
        lambda e, c: c.conversations_setTopic(channel=_channel(c), topic="sev2"),
        ("ok", "channel.topic.value"),
    ),
    "conversations.setPurpose": (
        lambda e, c: c.conversations_setPurpose(channel=_channel(c), purpose="p"),
        ("ok", "channel.purpose.value"),
    ),
    "conversations.archive": (lambda e, c: c.conversations_archive(channel=_channel(c)), ("ok",)),
    "conversations.rename": (
        lambda e, c: c.conversations_rename(channel=_channel(c), name="inc-renamed"),
        ("ok", "channel.name"),
    ),
    "conversations.info": (
        lambda e, c: c.conversations_info(channel="C0INCIDENTS", include_num_members=True),
        ("ok", "channel.id", "channel.is_archived", "channel.num_members"),
    ),
    "conversations.members": (
        lambda e, c: c.conversations_members(channel="C0INCIDENTS"),
        ("ok", "members", "response_metadata.next_cursor"),
    ),
    "conversations.history": (
        lambda e, c: c.conversations_history(channel=_threaded(c)[0], include_all_metadata=True),
        ("ok", "messages.0.ts", "messages.0.text", "has_more"),
    ),
    "conversations.replies": (
        lambda e, c: c.conversations_replies(
            channel=(t := _threaded(c))[0], ts=t[1], include_all_metadata=True
        ),
        (
            "ok",
            "messages.0.ts",
            "messages.0.reply_count",
            "messages.1.thread_ts",
            "messages.1.metadata",
        ),
    ),
    "chat.postMessage": (
        lambda e, c: c.chat_postMessage(
            channel="C0INCIDENTS", text="hi", blocks=BLOCKS, metadata=META
        ),
        ("ok", "channel", "ts", "message.ts", "message.text", "message.blocks", "message.metadata"),
    ),
    "chat.update": (
        lambda e, c: c.chat_update(
            channel=(p := _posted(c))[0], ts=p[1], text="new", blocks=BLOCKS
        ),
        ("ok", "channel", "ts", "text", "message.text"),
    ),
    "chat.postEphemeral": (
        lambda e, c: c.chat_postEphemeral(channel="C0INCIDENTS", user="U0ALICE01", text="psst"),
        ("ok", "message_ts"),
    ),
    "chat.scheduleMessage": (
        lambda e, c: c.chat_scheduleMessage(
            channel="C0INCIDENTS", text="later", post_at=int(time.time()) + 600
        ),
        ("ok", "scheduled_message_id", "channel", "post_at"),
    ),
    "chat.deleteScheduledMessage": (
        lambda e, c: c.chat_deleteScheduledMessage(
            channel="C0INCIDENTS",
            scheduled_message_id=c.chat_scheduleMessage(
                channel="C0INCIDENTS", text="later", post_at=int(time.time()) + 600
            )["scheduled_message_id"],
        ),
        ("ok",),
    ),
    "chat.getPermalink": (
        lambda e, c: c.chat_getPermalink(channel=(p := _posted(c))[0], message_ts=p[1]),
        ("ok", "permalink", "channel"),
    ),
    "views.open": (_opened_view, ("ok", "view.id", "view.hash", "view.root_view_id")),
    "views.push": (
        lambda e, c: (
            _opened_view(e, c),
            c.views_push(trigger_id=e.mint_trigger_id("U0ALICE01"), view=MODAL),
        )[1],
        ("ok", "view.id", "view.previous_view_id"),
    ),
    "views.update": (
        lambda e, c: c.views_update(view_id=_opened_view(e, c)["view"]["id"], view=MODAL),
        ("ok", "view.id", "view.hash"),
    ),
    "views.publish": (
        lambda e, c: c.views_publish(user_id="U0ALICE01", view=HOME),
        ("ok", "view.id"),
    ),
    "pins.add": (lambda e, c: c.pins_add(channel=(p := _posted(c))[0], timestamp=p[1]), ("ok",)),
    "bookmarks.add": (
        lambda e, c: c.bookmarks_add(
            channel_id="C0INCIDENTS", title="Runbook", type="link", link="https://example.com/rb"
        ),
        ("ok", "bookmark.id", "bookmark.link"),
    ),
    "reactions.add": (
        lambda e, c: c.reactions_add(channel=(p := _posted(c))[0], timestamp=p[1], name="eyes"),
        ("ok",),
    ),
    "users.info": (
        lambda e, c: c.users_info(user="U0ALICE01"),
        ("ok", "user.id", "user.tz", "user.profile.email"),
    ),
    "users.list": (lambda e, c: c.users_list(), ("ok", "members.0.id", "members.0.is_bot")),
    "users.lookupByEmail": (
        lambda e, c: c.users_lookupByEmail(email="bob@example.com"),
        ("ok", "user.id", "user.real_name"),
    ),
    "usergroups.list": (
        lambda e, c: c.usergroups_list(include_users=True),
        ("ok", "usergroups.0.id", "usergroups.0.handle", "usergroups.0.users"),
    ),
    "usergroups.users.list": (
        lambda e, c: c.usergroups_users_list(usergroup="S0ENGMGRS"),
        ("ok", "users"),
    ),
    "files.getUploadURLExternal": (
        lambda e, c: c.files_getUploadURLExternal(filename="a.txt", length=3),
        ("ok", "upload_url", "file_id"),
    ),
    "files.completeUploadExternal": (_complete, ("ok", "files.0.id", "files.0.title")),
    "files.delete": (
        lambda e, c: c.files_delete(
            file=c.files_upload_v2(content="x", filename="x.txt")["file"]["id"]
        ),
        ("ok",),
    ),
    "apps.connections.open": (_socket, ("ok", "url")),
}


class TestContract:
    def test_every_method_has_a_scenario(self) -> None:
        """Each emulated method is exercised here, and each sampled method is emulated."""
        emulated = set(BOT_METHODS) | set(APP_METHODS)
        assert emulated == set(SCENARIOS)
        sampled = {p.stem for p in REFERENCE.glob("*.json")}
        assert sampled <= emulated, f"reference methods not emulated: {sampled - emulated}"

    @pytest.mark.parametrize("method", sorted(SCENARIOS))
    def test_response_keys_match_the_reference(
        self, method: str, emulator: Emulator, client: WebClient
    ) -> None:
        """A successful call answers only with sampled keys and carries the keys clients read."""
        scenario, required = SCENARIOS[method]
        response = scenario(emulator, client)
        data = response if isinstance(response, list) else response.data
        calls = [c for c in emulator.calls(method) if c["ok"]]
        assert calls, f"no successful {method} call was recorded"
        if method == "files.completeUploadExternal" or not isinstance(response, list):
            assert data["ok"] is True
        assert extra_keys(data, sample_for(method)) == []
        for path in required:
            dig(data, path)

    def test_upload_v2_files_match_the_reference(
        self, emulator: Emulator, client: WebClient
    ) -> None:
        """files_upload_v2 (which chains both upload methods) sees sample-shaped file objects."""
        files = _upload(emulator, client)
        sample = sample_for("files.completeUploadExternal")
        assert extra_keys({"ok": True, "files": files}, sample) == []


class TestKeyChecker:
    def test_flags_keys_missing_from_the_sample(self) -> None:
        """The checker reports a key the sample lacks, with its path, at any depth."""
        sample = {"ok": False, "channel": {"id": ""}, "items": [{"a": 1}, {"b": 2}]}
        response = {
            "ok": True,
            "channel": {"id": "C1", "zzz": 1},
            "items": [{"a": 1, "b": 2, "c": 3}],
        }
        assert extra_keys(response, sample) == ["channel.zzz", "items[0].c"]

    def test_empty_object_in_sample_is_free_form(self) -> None:
        """`{}` in a sample (metadata.event_payload) accepts any keys."""
        assert extra_keys({"m": {"anything": {"x": 1}}}, {"m": {}}) == []
