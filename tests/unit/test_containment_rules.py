"""Containment actions: their front matter, the signature scheme, the repeat window."""

from __future__ import annotations

import pytest

from bot.config.problems import ConfigError
from bot.config.runbooks import parse_runbook
from bot.domain.containment import (
    button_value,
    parse_value,
    repeat_wait,
    retryable,
    signature,
)
from bot.render.runbook import runbook_blocks
from bot.sandbox.automation import verify

HEAD = """\
---
title: Checkout errors
services: [checkout]
actions:
  - id: rollback
    label: Roll back checkout
    webhook: {url_env: ROLLBACK_URL, secret_env: ROLLBACK_SECRET}
    confirm: Roll back?
    params: {service: checkout}
    auto_when: {severity: [sev1]}
{extra}---
## Triage
- If errors rose after a deploy → roll back: press the button
"""


def problems_of(extra: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_runbook(HEAD.replace("{extra}", extra), "runbooks/x.md")
    return [str(p) for p in caught.value.problems]


class TestFrontMatter:
    def test_an_action_is_read_with_its_defaults(self) -> None:
        """The right defaults to the tier's `contain`; auto_when's drills to false."""
        (action,) = parse_runbook(HEAD.replace("{extra}", ""), "runbooks/x.md").actions
        assert (action.id, action.url_env, action.secret_env) == (
            "rollback",
            "ROLLBACK_URL",
            "ROLLBACK_SECRET",
        )
        assert action.right == "contain"
        assert action.params == (("service", "checkout"),)
        assert action.runs_automatically("sev1", drill=False)
        assert not action.runs_automatically("sev1", drill=True)
        assert not action.runs_automatically("sev2", drill=False)

    def test_bad_actions_name_file_line_and_key(self) -> None:
        """An unknown right, a bad env name, an unknown key and a repeated id, each at its line."""
        extra = (
            "  - id: flag\n"
            "    label: Flag off\n"
            "    webhook: {url_env: 'not a name', secret_env: S}\n"
            "    confirm: Sure?\n"
            "    right: everything\n"
            "    colour: red\n"
        )
        found = problems_of(extra)
        assert any(p.startswith("runbooks/x.md:13: actions[1].webhook.url_env:") for p in found)
        assert any(p.startswith("runbooks/x.md:15: actions[1].right:") for p in found)
        assert any(
            p.startswith("runbooks/x.md:16: actions[1].colour: unknown key (allowed: id, label")
            for p in found
        )
        repeated = "  - id: rollback\n    label: Again\n    webhook: {url_env: U, secret_env: S}\n"
        assert problems_of(repeated + "    confirm: Sure?\n") == [
            "runbooks/x.md:11: actions[1].id: repeats an id"
        ]

    def test_buttons_show_only_in_an_incident_channel_behind_a_confirm(self) -> None:
        runbook = parse_runbook(HEAD.replace("{extra}", ""), "runbooks/x.md")
        assert all(b["type"] != "actions" for b in runbook_blocks(runbook))
        (button,) = runbook_blocks(runbook, incident_id="20260101-1")[-1]["elements"]
        assert button["action_id"] == "contain:rollback"
        assert button["value"] == "20260101-1|rollback"
        assert button["confirm"]["text"]["type"] == "plain_text"  # not parsed as mrkdwn
        assert button["confirm"]["text"]["text"] == "Roll back?"


class TestSignature:
    def test_the_sandbox_verifies_what_the_product_signs(self) -> None:
        """The receiver's independent check accepts the signature, and nothing altered."""
        body = b'{"action":"rollback"}'
        signed = signature("s3cret", "1700000000", body)
        assert signed.startswith("v1=")
        assert verify("s3cret", "1700000000", body, signed, 1700000010) == ""
        assert verify("s3cret", "1700000000", body + b" ", signed, 1700000010)
        assert verify("other", "1700000000", body, signed, 1700000010)
        assert verify("s3cret", "1700000000", body, signed, 1700001000)  # too old


class TestButtonsAndWindows:
    def test_values_round_trip_and_odd_ones_are_refused(self) -> None:
        assert parse_value(button_value("20260101-1", "rollback")) == ("20260101-1", "rollback")
        assert parse_value("20260101-1") is None
        assert parse_value("a|b|c") is None
        assert parse_value("|rollback") is None

    def test_repeat_window(self) -> None:
        """Inside the window: the seconds since; outside it, or never run: 0 (run it)."""
        assert repeat_wait(None, 1000.0) == 0
        assert repeat_wait(960.0, 1000.0) == 40
        assert repeat_wait(880.0, 1000.0) == 0

    def test_retries_on_5xx_and_no_answer_never_on_4xx(self) -> None:
        assert retryable(None)
        assert retryable(503)
        assert not retryable(404)
        assert not retryable(200)
