"""Messages: threads, DMs, ts order, metadata, edits, ephemerals, pins, files, block limits."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.emulator import Emulator

META = {"event_type": "incident_updated", "event_payload": {"incident_id": "inc-7", "sev": 2}}


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


class TestThreads:
    def test_replies_update_the_parent(self, emulator: Emulator, client: WebClient) -> None:
        """reply_count, reply_users, latest_reply follow the thread; replies stay out of history."""
        parent = client.chat_postMessage(channel="C0INCIDENTS", text="header")["ts"]
        client.chat_postMessage(channel="C0INCIDENTS", text="update 1", thread_ts=parent)
        emulator.post_as_user("U0ALICE01", "C0INCIDENTS", "on it", thread_ts=parent)
        last = client.chat_postMessage(channel="C0INCIDENTS", text="update 2", thread_ts=parent)
        assert last["message"]["thread_ts"] == parent
        history = client.conversations_history(channel="C0INCIDENTS")["messages"]
        assert [m["text"] for m in history] == ["header"]
        top = history[0]
        assert (top["reply_count"], top["latest_reply"]) == (3, last["ts"])
        assert top["reply_users"] == ["U0TOCSIN1", "U0ALICE01"]
        thread = client.conversations_replies(channel="C0INCIDENTS", ts=parent)["messages"]
        assert [m["text"] for m in thread] == ["header", "update 1", "on it", "update 2"]

    def test_broadcast_reply_also_shows_in_history(self, client: WebClient) -> None:
        """reply_broadcast puts the reply in the channel too, as a thread_broadcast."""
        parent = client.chat_postMessage(channel="C0INCIDENTS", text="header")["ts"]
        client.chat_postMessage(
            channel="C0INCIDENTS", text="resolved", thread_ts=parent, reply_broadcast=True
        )
        history = client.conversations_history(channel="C0INCIDENTS")["messages"]
        assert history[0]["subtype"] == "thread_broadcast"
        assert history[0]["root"]["ts"] == parent

    def test_thread_on_unknown_parent(self, client: WebClient) -> None:
        """A thread_ts that names no message is refused."""
        assert (
            error_of(
                lambda: client.chat_postMessage(
                    channel="C0INCIDENTS", text="x", thread_ts="1.000001"
                )
            )
            == "thread_not_found"
        )

    def test_transcript_nests_replies(self, emulator: Emulator, client: WebClient) -> None:
        """The inspection transcript puts replies under their parent."""
        parent = client.chat_postMessage(channel="C0INCIDENTS", text="header")["ts"]
        client.chat_postMessage(channel="C0INCIDENTS", text="update", thread_ts=parent)
        [top] = emulator.transcript("#incidents")
        assert [r["text"] for r in top["replies"]] == ["update"]


class TestDirectMessages:
    def test_one_dm_per_pair(self, emulator: Emulator, client: WebClient) -> None:
        """conversations.open gives the same D… id every time for the same user."""
        first = client.conversations_open(users="U0ALICE01")["channel"]["id"]
        again = client.conversations_open(users="U0ALICE01")["channel"]["id"]
        other = client.conversations_open(users="U0BOB0001")["channel"]["id"]
        assert first == again
        assert first.startswith("D")
        assert other != first

    def test_page_by_dm_is_visible_per_user(self, emulator: Emulator, client: WebClient) -> None:
        """Posting to a DM (or straight to a user id) lands in that user's DM record."""
        dm = client.conversations_open(users="U0ALICE01")["channel"]["id"]
        client.chat_postMessage(channel=dm, text="You are paged for inc-7")
        posted = client.chat_postMessage(channel="U0ALICE01", text="Still paging")
        assert posted["channel"] == dm
        assert [m["text"] for m in emulator.dms("U0ALICE01")["U0ALICE01"]] == [
            "You are paged for inc-7",
            "Still paging",
        ]
        assert "U0BOB0001" not in emulator.dms()

    def test_dm_with_unknown_user(self, client: WebClient) -> None:
        """Opening a DM with a user who does not exist is user_not_found."""
        assert error_of(lambda: client.conversations_open(users="U0GHOST")) == "user_not_found"


class TestTimestamps:
    def test_ts_strictly_increasing_under_concurrency(self, emulator: Emulator) -> None:
        """Posts from many threads across channels get distinct, ordered ts values."""
        results: list[str] = []
        lock = threading.Lock()

        def worker(channel: str) -> None:
            client = WebClient(token=emulator.bot_token, base_url=emulator.url)
            for n in range(15):
                ts = client.chat_postMessage(channel=channel, text=str(n))["ts"]
                with lock:
                    results.append(str(ts))

        threads = [
            threading.Thread(target=worker, args=(c,)) for c in ("C0INCIDENTS", "C0STATUS") * 4
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(results)) == 120
        for channel in ("incidents", "status"):
            ts_list = [m["ts"] for m in emulator.transcript(channel)]
            assert ts_list == sorted(ts_list, key=float)
            assert len(ts_list) == 60


class TestMetadata:
    def test_metadata_round_trip(self, client: WebClient) -> None:
        """Metadata comes back from history and replies only with include_all_metadata."""
        ts = client.chat_postMessage(channel="C0INCIDENTS", text="x", metadata=META)["ts"]
        plain = client.conversations_history(channel="C0INCIDENTS")["messages"][0]
        assert "metadata" not in plain
        full = client.conversations_history(channel="C0INCIDENTS", include_all_metadata=True)
        assert full["messages"][0]["metadata"] == META
        replies = client.conversations_replies(
            channel="C0INCIDENTS", ts=ts, include_all_metadata=True
        )
        assert replies["messages"][0]["metadata"] == META

    def test_bad_metadata_is_refused(self, client: WebClient) -> None:
        """Metadata without an event_type is invalid_metadata_format."""
        bad = {"event_payload": {"a": 1}}
        assert (
            error_of(lambda: client.chat_postMessage(channel="C0INCIDENTS", text="x", metadata=bad))
            == "invalid_metadata_format"
        )


class TestPostingRules:
    @pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
    def test_no_text(self, client: WebClient) -> None:
        """A post with neither text, blocks nor attachments is no_text."""
        assert error_of(lambda: client.chat_postMessage(channel="C0INCIDENTS")) == "no_text"

    def test_form_encoded_blocks_and_metadata(self, emulator: Emulator, client: WebClient) -> None:
        """Form bodies carry blocks and metadata as JSON text; they are parsed like JSON bodies."""
        params = {
            "channel": "C0INCIDENTS",
            "text": "form",
            "blocks": json.dumps([section("from a form")]),
            "metadata": json.dumps(META),
        }
        assert client.api_call("chat.postMessage", params=params)["ok"] is True
        [message] = emulator.transcript("incidents")
        assert message["blocks"][0]["text"]["text"] == "from a form"
        assert message["metadata"] == META
        params["blocks"] = "[not json"
        with pytest.raises(SlackApiError) as caught:
            client.api_call("chat.postMessage", params=params)
        assert caught.value.response["error"] == "invalid_blocks_format"

    def test_update_own_message(self, emulator: Emulator, client: WebClient) -> None:
        """chat.update edits the bot's message; others' messages and unknown ts are refused."""
        ts = client.chat_postMessage(channel="C0INCIDENTS", text="v1", blocks=[section("v1")])["ts"]
        client.chat_update(channel="C0INCIDENTS", ts=ts, text="v2")
        [message] = emulator.transcript("incidents")
        assert message["text"] == "v2"
        assert message["blocks"][0]["text"]["text"] == "v1"  # blocks kept when not sent
        human = emulator.post_as_user("U0ALICE01", "C0INCIDENTS", "mine")
        assert (
            error_of(lambda: client.chat_update(channel="C0INCIDENTS", ts=human["ts"], text="x"))
            == "cant_update_message"
        )
        assert (
            error_of(lambda: client.chat_update(channel="C0INCIDENTS", ts="1.2", text="x"))
            == "message_not_found"
        )

    def test_ephemeral_is_recorded_not_posted(self, emulator: Emulator, client: WebClient) -> None:
        """Ephemerals are visible to inspection and never appear in history."""
        client.chat_postEphemeral(channel="C0INCIDENTS", user="U0BOB0001", text="only you")
        assert client.conversations_history(channel="C0INCIDENTS")["messages"] == []
        [eph] = emulator.ephemerals(user="U0BOB0001")
        assert eph["text"] == "only you"
        cid = client.conversations_create(name="inc-1")["channel"]["id"]
        assert (
            error_of(lambda: client.chat_postEphemeral(channel=cid, user="U0BOB0001", text="x"))
            == "user_not_in_channel"
        )

    def test_pins_reactions_bookmarks(self, emulator: Emulator, client: WebClient) -> None:
        """Pins (once), reactions (once per user) and bookmarks are stored and inspectable."""
        ts = client.chat_postMessage(channel="C0INCIDENTS", text="header")["ts"]
        client.pins_add(channel="C0INCIDENTS", timestamp=ts)
        assert (
            error_of(lambda: client.pins_add(channel="C0INCIDENTS", timestamp=ts))
            == "already_pinned"
        )
        assert (
            error_of(lambda: client.pins_add(channel="C0INCIDENTS", timestamp="1.1"))
            == "message_not_found"
        )
        client.reactions_add(channel="C0INCIDENTS", timestamp=ts, name="eyes")
        assert (
            error_of(lambda: client.reactions_add(channel="C0INCIDENTS", timestamp=ts, name="eyes"))
            == "already_reacted"
        )
        client.bookmarks_add(
            channel_id="C0INCIDENTS", title="Runbook", type="link", link="https://rb.example.com/x"
        )
        assert [p["ts"] for p in emulator.pins("incidents")] == [ts]
        assert emulator.transcript("incidents")[0]["reactions"] == {"eyes": ["U0TOCSIN1"]}
        assert emulator.bookmarks("incidents")[0]["title"] == "Runbook"

    def test_scheduled_message_is_delivered(self, emulator: Emulator, client: WebClient) -> None:
        """A scheduled message appears in the channel at post_at; a deleted one never does."""
        due = int(time.time()) + 1
        client.chat_scheduleMessage(channel="C0INCIDENTS", text="reminder", post_at=due)
        gone = client.chat_scheduleMessage(channel="C0INCIDENTS", text="cancelled", post_at=due)
        client.chat_deleteScheduledMessage(
            channel="C0INCIDENTS", scheduled_message_id=gone["scheduled_message_id"]
        )
        emulator.wait_for(lambda: emulator.transcript("incidents"), timeout=4)
        assert [m["text"] for m in emulator.transcript("incidents")] == ["reminder"]
        past = int(time.time()) - 10
        assert (
            error_of(
                lambda: client.chat_scheduleMessage(channel="C0INCIDENTS", text="x", post_at=past)
            )
            == "time_in_past"
        )

    def test_permalink(self, emulator: Emulator, client: WebClient) -> None:
        """chat.getPermalink points into the sandbox's archives."""
        ts = client.chat_postMessage(channel="C0INCIDENTS", text="x")["ts"]
        link = client.chat_getPermalink(channel="C0INCIDENTS", message_ts=ts)["permalink"]
        assert link == f"{emulator.root_url}archives/C0INCIDENTS/p{ts.replace('.', '')}"


class TestFiles:
    def test_upload_v2_lands_in_the_channel(self, emulator: Emulator, client: WebClient) -> None:
        """files_upload_v2 runs getUploadURLExternal, the upload and completeUploadExternal."""
        client.files_upload_v2(
            channel="C0INCIDENTS",
            content="timeline…",
            filename="timeline.md",
            title="Timeline",
            initial_comment="Post-incident timeline",
        )
        [message] = emulator.transcript("incidents")
        assert message["text"] == "Post-incident timeline"
        assert message["files"][0]["title"] == "Timeline"
        file_id = message["files"][0]["id"]
        assert emulator.store.files[file_id].content == "timeline…".encode()
        history = client.conversations_history(channel="C0INCIDENTS")["messages"][0]
        assert history["files"][0]["name"] == "timeline.md"

    def test_complete_without_upload(self, client: WebClient) -> None:
        """Completing a file whose bytes never arrived is file_not_found."""
        got = client.files_getUploadURLExternal(filename="a.txt", length=3)
        assert (
            error_of(lambda: client.files_completeUploadExternal(files=[{"id": got["file_id"]}]))
            == "file_not_found"
        )


class TestBlockLimits:
    @pytest.mark.parametrize(
        "blocks",
        [
            [section("x")] * 51,
            [section("x" * 3001)],
            [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "x" * 76},
                            "action_id": "a",
                        }
                    ],
                }
            ],
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "ok"},
                            "action_id": "a" * 256,
                        }
                    ],
                }
            ],
            [{"type": "no_such_block"}],
            [{"type": "section"}],
        ],
        ids=[
            "51-blocks",
            "section-3001",
            "header-151",
            "button-76",
            "action-id-256",
            "unknown-type",
            "empty-section",
        ],
    )
    def test_over_the_limit_is_invalid_blocks(self, client: WebClient, blocks: list[Any]) -> None:
        """Messages breaking a Block Kit limit are refused with invalid_blocks and a reason."""
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="C0INCIDENTS", text="x", blocks=blocks)
        assert caught.value.response["error"] == "invalid_blocks"
        assert caught.value.response["response_metadata"]["messages"]

    def test_at_the_limit_is_fine(self, emulator: Emulator, client: WebClient) -> None:
        """50 blocks with 3000-character sections are accepted, and get block ids."""
        client.chat_postMessage(channel="C0INCIDENTS", text="x", blocks=[section("x" * 3000)] * 50)
        blocks = emulator.transcript("incidents")[0]["blocks"]
        assert len(blocks) == 50
        assert all(b["block_id"] for b in blocks)
