"""Views: single-use, short-lived trigger ids, modal stacks, hashes, home tabs, view limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.emulator import Emulator


def modal(title: str = "Declare", blocks: int = 1, **extra: Any) -> dict[str, Any]:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section] * blocks,
        **extra,
    }


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


class TestTriggerIds:
    def test_trigger_id_works_once(self, emulator: Emulator, client: WebClient) -> None:
        """A trigger id opens one modal; a second use is expired_trigger_id."""
        trigger = emulator.mint_trigger_id("U0ALICE01")
        client.views_open(trigger_id=trigger, view=modal())
        assert (
            error_of(lambda: client.views_open(trigger_id=trigger, view=modal()))
            == "expired_trigger_id"
        )

    def test_trigger_id_expires(self) -> None:
        """Past its lifetime a trigger id is expired_trigger_id (3 s by default)."""
        assert Emulator().store.trigger_ttl == 3.0
        with Emulator(trigger_ttl=0.2) as emu:
            client = WebClient(token=emu.bot_token, base_url=emu.url)
            trigger = emu.mint_trigger_id("U0ALICE01")
            time.sleep(0.3)  # past the trigger's lifetime (the emulator reads the real clock)
            assert (
                error_of(lambda: client.views_open(trigger_id=trigger, view=modal()))
                == "expired_trigger_id"
            )

    def test_made_up_trigger_id(self, client: WebClient) -> None:
        """A trigger id the emulator never minted is invalid_trigger_id."""
        assert (
            error_of(lambda: client.views_open(trigger_id="1.2.abc", view=modal()))
            == "invalid_trigger_id"
        )

    def test_invalid_view_does_not_spend_the_trigger(
        self, emulator: Emulator, client: WebClient
    ) -> None:
        """A refused view leaves the trigger id usable."""
        trigger = emulator.mint_trigger_id("U0ALICE01")
        assert (
            error_of(lambda: client.views_open(trigger_id=trigger, view=modal("x" * 25)))
            == "invalid_arguments"
        )
        client.views_open(trigger_id=trigger, view=modal())

    def test_trigger_ids_over_http(self, emulator: Emulator, client: WebClient, admin: Any) -> None:
        """POST /sandbox/trigger_ids mints one for a driver in another process."""
        trigger = admin("/sandbox/trigger_ids", {"user_id": "U0BOB0001"})["trigger_id"]
        client.views_open(trigger_id=trigger, view=modal())
        assert emulator.views("U0BOB0001")[0]["user"] == "U0BOB0001"


class TestModals:
    def test_view_limits(self, emulator: Emulator, client: WebClient) -> None:
        """More than 100 blocks, or a title over 24 characters, is invalid_arguments."""
        for view in (modal(blocks=101), modal(title="t" * 25)):
            trigger = emulator.mint_trigger_id("U0ALICE01")
            with pytest.raises(SlackApiError) as caught:
                client.views_open(trigger_id=trigger, view=view)
            assert caught.value.response["error"] == "invalid_arguments"
        client.views_open(trigger_id=emulator.mint_trigger_id("U0ALICE01"), view=modal(blocks=100))

    def test_push_update_and_close(self, emulator: Emulator, client: WebClient) -> None:
        """Pushed views stack (max 3), update checks the hash, close drops the stack."""
        root = client.views_open(trigger_id=emulator.mint_trigger_id("U0ALICE01"), view=modal())[
            "view"
        ]
        pushed = client.views_push(
            trigger_id=emulator.mint_trigger_id("U0ALICE01"), view=modal("Step 2")
        )["view"]
        assert (pushed["root_view_id"], pushed["previous_view_id"]) == (root["id"], root["id"])
        client.views_push(trigger_id=emulator.mint_trigger_id("U0ALICE01"), view=modal("Step 3"))
        assert (
            error_of(
                lambda: client.views_push(
                    trigger_id=emulator.mint_trigger_id("U0ALICE01"), view=modal()
                )
            )
            == "push_limit_reached"
        )
        assert (
            error_of(lambda: client.views_update(view_id=root["id"], hash="stale", view=modal()))
            == "hash_conflict"
        )
        updated = client.views_update(view_id=root["id"], hash=root["hash"], view=modal("Edited"))[
            "view"
        ]
        assert updated["title"]["text"] == "Edited"
        assert updated["hash"] != root["hash"]
        assert [v["stack_depth"] for v in emulator.views("U0ALICE01")] == [1, 2, 3]
        emulator.close_view(root["id"])
        assert emulator.views("U0ALICE01") == []
        assert (
            error_of(lambda: client.views_update(view_id=root["id"], view=modal())) == "not_found"
        )

    def test_update_by_external_id(self, emulator: Emulator, client: WebClient) -> None:
        """views.update finds a view by external_id; external ids are unique among open views."""
        client.views_open(
            trigger_id=emulator.mint_trigger_id("U0ALICE01"), view=modal(external_id="inc-7")
        )
        client.views_update(external_id="inc-7", view=modal("Again", external_id="inc-7"))
        assert emulator.views("U0ALICE01")[0]["view"]["title"]["text"] == "Again"
        trigger = emulator.mint_trigger_id("U0BOB0001")
        assert (
            error_of(lambda: client.views_open(trigger_id=trigger, view=modal(external_id="inc-7")))
            == "duplicate_external_id"
        )

    def test_home_tab(self, emulator: Emulator, client: WebClient) -> None:
        """views.publish keeps one home view per user and updates it in place."""
        home = {
            "type": "home",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
        }
        first = client.views_publish(user_id="U0ALICE01", view=home)["view"]
        second = client.views_publish(user_id="U0ALICE01", view=home)["view"]
        assert first["id"] == second["id"]
        assert (
            error_of(lambda: client.views_publish(user_id="U0GHOST", view=home)) == "user_not_found"
        )
        assert (
            error_of(lambda: client.views_publish(user_id="U0ALICE01", view=modal()))
            == "invalid_arguments"
        )
