"""Credentials never reach text meant for people: URL passwords and Slack tokens are masked."""

from __future__ import annotations

import pytest

from bot import logs
from bot.config.settings import Settings
from bot.redaction import redact_text


class TestRedactText:
    @pytest.mark.parametrize(
        ("text", "shown"),
        [
            ("redis://:sekret@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
            ("rediss://app:p@ss@redis.internal:6380/2", "rediss://app:***@redis.internal:6380/2"),
            (
                "unix:///run/redis.sock?password=sekret&db=1",
                "unix:///run/redis.sock?password=***&db=1",
            ),
            ("bad token xoxb-1234-5678-sekret", "bad token xoxb-***"),
            ("app token xapp-1-A0-sekret", "app token xapp-***"),
        ],
    )
    def test_credentials_are_masked(self, text: str, shown: str) -> None:
        """The password of a URL, a `password=` argument and a Slack token become ***."""
        assert redact_text(text) == shown

    @pytest.mark.parametrize(
        "text",
        [
            "redis://127.0.0.1:6379/0",
            "redis://app@host/0",
            "http://127.0.0.1:3000/slack/events?u=a@b",
        ],
    )
    def test_text_without_credentials_is_unchanged(self, text: str) -> None:
        """URLs without a password (even with an @ in the path) are left alone."""
        assert redact_text(text) == text


class TestSettingsRepr:
    def test_repr_masks_the_redis_password_and_leaves_out_tokens(self) -> None:
        """repr(Settings) shows REDIS_URL with *** for its password and no token or secret."""
        settings = Settings.from_env(
            {
                "REDIS_URL": "redis://:sekret@10.0.0.5:6379/0",
                "SLACK_BOT_TOKEN": "xoxb-bot-sekret",
                "SLACK_SIGNING_SECRET": "signing-sekret",
                "SLACK_APP_TOKEN": "xapp-app-sekret",
            }
        )
        shown = repr(settings)
        assert "redis_url='redis://:***@10.0.0.5:6379/0'" in shown
        assert "sekret" not in shown
        assert settings.redis_url == "redis://:sekret@10.0.0.5:6379/0"  # only the text changes


class TestLogRedaction:
    def test_secret_keys_are_dropped_and_credentials_in_values_masked(self) -> None:
        """The processor drops token-named keys and masks URL passwords inside any text."""
        event = logs.redact(
            None,
            "error",
            {
                "event": "redis_unavailable at redis://:sekret@10.0.0.5:6379/0",
                "url": "rediss://app:sekret@10.0.0.5:6380/1",
                "signing_secret": "plain-sekret",
                "attempts": 3,
            },
        )
        assert event == {
            "event": "redis_unavailable at redis://:***@10.0.0.5:6379/0",
            "url": "rediss://app:***@10.0.0.5:6380/1",
            "signing_secret": "[redacted]",
            "attempts": 3,
        }
