"""Sorting Slack's refusals into "never" and "later", and reading a page's position from its key."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.incident.delivery import page_position
from bot.paging import DeliveryError, Undeliverable
from bot.paging.slack_errors import classify


def refusal(
    error: str | None, status: int = 200, headers: dict[str, str] | None = None
) -> SlackApiError:
    data = {"ok": False, **({"error": error} if error else {})}
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("refused", response)


class TestClassify:
    @pytest.mark.parametrize(
        ("error", "reason"),
        [
            ("user_not_found", "there is no such Slack user"),
            ("user_disabled", "their Slack account is deactivated"),
            ("is_archived", "the channel is archived"),
            ("msg_too_long", "the message is too long for Slack"),
            ("cannot_dm_bot", "it is a bot, and bots cannot be paged"),
        ],
    )
    def test_permanent_codes_fail_the_item_with_words(self, error: str, reason: str) -> None:
        """Slack's codes for what can never go become Undeliverable with the code and a reason."""
        found = classify(refusal(error))
        assert isinstance(found, Undeliverable)
        assert (found.code, found.reason) == (error, reason)

    def test_a_rate_limit_is_retried_after_slacks_retry_after(self) -> None:
        """429 with Retry-After: 7 is a transient failure of this item, retried after 7 s."""
        found = classify(refusal("ratelimited", 429, {"Retry-After": "7"}))
        assert isinstance(found, DeliveryError)
        assert (found.retry_after, found.wide) == (7.0, False)

    @pytest.mark.parametrize(("error", "status"), [(None, 503), ("invalid_auth", 200)])
    def test_server_errors_and_a_refused_token_stop_the_whole_drain(
        self, error: str | None, status: int
    ) -> None:
        """A 5xx or a token Slack refuses is not this item's fault: the rest would fail too."""
        found = classify(refusal(error, status))
        assert isinstance(found, DeliveryError)
        assert found.wide

    def test_an_unknown_code_is_retried_without_holding_up_others(self) -> None:
        """A code Tocsin does not know is retried later, for this item only."""
        found = classify(refusal("something_new"))
        assert isinstance(found, DeliveryError)
        assert (found.wide, found.retry_after) == (False, 0.0)


class TestPagePosition:
    @pytest.mark.parametrize(
        ("key", "position"),
        [
            ("page:0:1:U0ALICE01", (0, 0, 1)),
            ("page:r2:3:0:U0BOB0001", (2, 3, 0)),
            ("page:1:0:pagerduty:ops", (0, 1, 0)),  # a service a step notified
            ("page:r1:0:2:webhook:audit", (1, 0, 2)),
            ("page:manual:ab12:U0BOB0001", None),
            ("announce:exhausted:3:@incident", None),
            ("page:3:0:U0BOB0001:x:y", None),  # too many parts (found by make mutate)
        ],
    )
    def test_policy_pages_have_a_position_and_other_items_none(
        self, key: str, position: tuple[int, int, int] | None
    ) -> None:
        """(run, step, loop) of a policy page; a page by hand or an announcement has none."""
        assert page_position(key) == position
