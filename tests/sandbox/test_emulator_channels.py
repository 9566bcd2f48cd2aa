"""Channels: tokens, membership, Slack's naming rules, private channels and archiving."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.emulator import Emulator


def error_of(call: object) -> str:
    """Run a zero-argument lambda that must fail with a Slack error; return the error code."""
    assert callable(call)
    with pytest.raises(SlackApiError) as caught:
        call()
    assert caught.value.response.status_code == 200
    return str(caught.value.response["error"])


class TestTokens:
    def test_bad_token_is_invalid_auth(self, emulator: Emulator) -> None:
        """An unknown token is refused with invalid_auth."""
        client = WebClient(token="xoxb-wrong", base_url=emulator.url)
        assert error_of(lambda: client.auth_test()) == "invalid_auth"

    def test_missing_token_is_not_authed(self, emulator: Emulator) -> None:
        """No token at all is not_authed."""
        client = WebClient(base_url=emulator.url)
        assert error_of(lambda: client.api_call("auth.test")) == "not_authed"

    def test_token_in_form_field_is_accepted(self, emulator: Emulator) -> None:
        """The token may come as a `token` form field instead of a Bearer header."""
        client = WebClient(base_url=emulator.url)
        assert client.api_call("auth.test", params={"token": emulator.bot_token})["ok"] is True

    def test_app_token_only_opens_connections(self, emulator: Emulator, client: WebClient) -> None:
        """xapp- tokens open Socket Mode connections and nothing else; bot tokens cannot."""
        app = WebClient(token=emulator.app_token, base_url=emulator.url)
        assert error_of(lambda: app.auth_test()) == "not_allowed_token_type"
        assert (
            error_of(lambda: client.apps_connections_open(app_token="")) == "not_allowed_token_type"
        )
        assert (
            error_of(lambda: app.apps_connections_open(app_token="")) == "socket_mode_not_enabled"
        )
        emulator.socket_mode_url = "ws://127.0.0.1:9/socket"
        assert app.apps_connections_open(app_token="")["url"] == "ws://127.0.0.1:9/socket"

    def test_unknown_method(self, client: WebClient) -> None:
        """A method the emulator does not know answers unknown_method."""
        assert error_of(lambda: client.api_call("admin.teams.list")) == "unknown_method"

    def test_user_token_acts_as_that_user(self, emulator: Emulator) -> None:
        """xoxp-sandbox-<user> posts as that human, with no bot_id."""
        alice = WebClient(token=emulator.user_token("U0ALICE01"), base_url=emulator.url)
        posted = alice.chat_postMessage(channel="C0INCIDENTS", text="I see errors")
        assert posted["message"]["user"] == "U0ALICE01"
        assert "bot_id" not in posted["message"]


class TestNaming:
    @pytest.mark.parametrize(
        ("name", "error"),
        [
            ("", "invalid_name_required"),
            ("a" * 81, "invalid_name_maxlength"),
            ("Inc-Upper", "invalid_name_specials"),
            ("inc 1", "invalid_name_specials"),
            ("inc#1", "invalid_name_specials"),
            ("---", "invalid_name_punctuation"),
            ("incidents", "name_taken"),
        ],
    )
    def test_bad_names_are_refused(self, client: WebClient, name: str, error: str) -> None:
        """Names follow Slack's rules: lowercase [a-z0-9_-], 1-80 characters, unique."""
        assert error_of(lambda: client.conversations_create(name=name)) == error

    def test_longest_valid_name(self, client: WebClient) -> None:
        """Exactly 80 allowed characters is fine."""
        name = "inc-20240101-1-" + "x" * 65
        assert client.conversations_create(name=name)["channel"]["name"] == name

    def test_rename_checks_rules_and_keeps_previous_names(self, client: WebClient) -> None:
        """Renaming applies the same rules and records the old name."""
        cid = client.conversations_create(name="inc-old")["channel"]["id"]
        assert (
            error_of(lambda: client.conversations_rename(channel=cid, name="status"))
            == "name_taken"
        )
        renamed = client.conversations_rename(channel=cid, name="inc-new")["channel"]
        assert (renamed["name"], renamed["previous_names"]) == ("inc-new", ["inc-old"])


class TestMembership:
    def test_creator_is_a_member(self, emulator: Emulator, client: WebClient) -> None:
        """The bot is in the channel it created."""
        channel = client.conversations_create(name="inc-1")["channel"]
        assert channel["is_member"] is True
        assert emulator.channel("inc-1")["members"] == ["U0TOCSIN1"]

    def test_posting_outside_membership(self, client: WebClient) -> None:
        """#general exists but the bot is not in it: not_in_channel until it joins."""
        assert (
            error_of(lambda: client.chat_postMessage(channel="C0GENERAL", text="x"))
            == "not_in_channel"
        )
        client.conversations_join(channel="C0GENERAL")
        client.chat_postMessage(channel="C0GENERAL", text="x")

    def test_unknown_channel(self, client: WebClient) -> None:
        """A channel id nobody created is channel_not_found."""
        assert (
            error_of(lambda: client.chat_postMessage(channel="C0NOPE", text="x"))
            == "channel_not_found"
        )
        assert error_of(lambda: client.conversations_info(channel="C0NOPE")) == "channel_not_found"

    def test_invite_rules(self, emulator: Emulator, client: WebClient) -> None:
        """Invites add members; members, unknown users and the bot itself are refused."""
        cid = client.conversations_create(name="inc-1")["channel"]["id"]
        client.conversations_invite(channel=cid, users="U0ALICE01,U0BOB0001")
        assert emulator.channel(cid)["members"] == ["U0TOCSIN1", "U0ALICE01", "U0BOB0001"]
        assert (
            error_of(lambda: client.conversations_invite(channel=cid, users="U0ALICE01"))
            == "already_in_channel"
        )
        assert (
            error_of(lambda: client.conversations_invite(channel=cid, users="U0NOBODY"))
            == "user_not_found"
        )
        assert (
            error_of(lambda: client.conversations_invite(channel=cid, users="U0TOCSIN1"))
            == "cant_invite_self"
        )
        assert (
            error_of(lambda: client.conversations_invite(channel="C0GENERAL", users="U0ALICE01"))
            == "not_in_channel"
        )

    def test_join_twice_warns(self, client: WebClient) -> None:
        """Joining a channel you are in succeeds with the already_in_channel warning."""
        reply = client.conversations_join(channel="C0INCIDENTS")
        assert reply["warning"] == "already_in_channel"

    def test_members_pagination(self, client: WebClient) -> None:
        """conversations.members pages with cursors."""
        first = client.conversations_members(channel="C0INCIDENTS", limit=4)
        cursor = first["response_metadata"]["next_cursor"]
        rest = client.conversations_members(channel="C0INCIDENTS", cursor=cursor, limit=100)
        assert len(first["members"]) + len(rest["members"]) == 9
        assert rest["response_metadata"]["next_cursor"] == ""


class TestPrivateChannels:
    def test_private_channel_is_invisible_to_outsiders(self, emulator: Emulator) -> None:
        """A private channel exists only for its members."""
        bot = WebClient(token=emulator.bot_token, base_url=emulator.url)
        alice = WebClient(token=emulator.user_token("U0ALICE01"), base_url=emulator.url)
        channel = alice.conversations_create(name="inc-secret", is_private=True)["channel"]
        assert channel["is_private"] is True
        assert (
            error_of(lambda: bot.conversations_info(channel=channel["id"])) == "channel_not_found"
        )
        assert (
            error_of(lambda: bot.conversations_join(channel=channel["id"])) == "channel_not_found"
        )
        alice.conversations_invite(channel=channel["id"], users="U0TOCSIN1")
        assert bot.conversations_info(channel=channel["id"])["channel"]["is_group"] is True
        bot.chat_postMessage(channel=channel["id"], text="hello, private")


class TestArchive:
    def test_archived_channel_refuses_posts(self, client: WebClient) -> None:
        """After archiving, posting answers is_archived; archiving again already_archived."""
        cid = client.conversations_create(name="inc-done")["channel"]["id"]
        client.conversations_archive(channel=cid)
        assert error_of(lambda: client.chat_postMessage(channel=cid, text="x")) == "is_archived"
        assert error_of(lambda: client.conversations_archive(channel=cid)) == "already_archived"
        assert client.conversations_info(channel=cid)["channel"]["is_archived"] is True

    def test_general_cannot_be_archived(self, client: WebClient) -> None:
        """#general is the one channel nobody archives."""
        assert (
            error_of(lambda: client.conversations_archive(channel="C0GENERAL"))
            == "cant_archive_general"
        )

    def test_topic_and_purpose(self, emulator: Emulator, client: WebClient) -> None:
        """setTopic / setPurpose store the value and who set it."""
        client.conversations_setTopic(channel="C0INCIDENTS", topic="SEV2 checkout")
        client.conversations_setPurpose(channel="C0INCIDENTS", purpose="incidents")
        info = client.conversations_info(channel="C0INCIDENTS")["channel"]
        assert info["topic"]["value"] == "SEV2 checkout"
        assert info["topic"]["creator"] == "U0TOCSIN1"
        assert emulator.channel("incidents")["purpose"] == "incidents"
