"""Every in-channel command's bad inputs, over signed HTTP: missing arguments, wrong channel,
unknown people, no right, and Slack's retries. One stack for the module (the cases are independent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.sandbox.emulator import Emulator
from bot.state.server import connect
from tests.e2e.support import ROOT, SECRET, Stack, stack_env, wait_for, write_config

IN_CHANNEL = [
    "ack",
    "escalate",
    "update all good",
    "sev sev1",
    "role comms <@U0GRACE01>",
    "handoff <@U0GRACE01>",
    "mitigate",
    "resolve",
    "reopen",
    "note hi",
    "page <@U0BOB0001>",
    "status",
    "timeline",
    "runbook",
]


@pytest.fixture(scope="module")
def shared(
    redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, str]]:
    connect(redis_server).flushdb()
    tmp = tmp_path_factory.mktemp("bad-input")
    emulator = Emulator().start()
    env = stack_env(redis_server, emulator, write_config(tmp / "config"), ROOT / "runbooks", SECRET)
    stack = Stack(emulator, env, Path(tmp), SECRET)
    try:
        stack.start()
        stack.driver().slash("U0ERIN001", "declare sev2 Checkout errors")
        channel = wait_for(lambda: [c for c in emulator.channels() if c["name"].startswith("inc-")])
        cid = str(channel[0]["id"])
        wait_for(lambda: emulator.pins(cid))
        yield stack, cid
    finally:
        stack.stop()
        emulator.stop()
        connect(redis_server).flushdb()


@pytest.mark.parametrize("text", IN_CHANNEL)
def test_in_channel_commands_refuse_other_channels(shared: tuple[Stack, str], text: str) -> None:
    """Typed in #incidents, an incident command says where it works instead of acting."""
    stack, _ = shared
    result = stack.driver().slash("U0ERIN001", text, channel_id="C0INCIDENTS")
    assert result.status == 200
    assert "works in an incident channel" in result.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sev", "sev1"),
        ("role", "commander"),
        ("role boss <@U0GRACE01>", "commander"),
        ("note", "note"),
        ("page", "page"),
        ("page <!channel>", "page"),
        ("handoff", "handoff"),
        ("sev sev9", "sev1"),
    ],
)
def test_missing_or_wrong_arguments_get_usage(
    shared: tuple[Stack, str], text: str, expected: str
) -> None:
    """Missing or invalid arguments get usage help naming the valid forms, never a trace."""
    stack, cid = shared
    result = stack.driver().slash("U0ERIN001", text, channel_id=cid)
    assert result.status == 200
    assert ":warning:" in result.text
    assert expected in result.text
    assert "Traceback" not in result.text


def test_unknown_person_is_named(shared: tuple[Stack, str]) -> None:
    """A plain @name Slack did not turn into a mention is refused, naming it."""
    stack, cid = shared
    result = stack.driver().slash("U0ERIN001", "page @nosuchperson help", channel_id=cid)
    assert "@nosuchperson" in result.text


@pytest.mark.parametrize(
    ("user", "text", "right"),
    [
        ("U0FRANK01", "sev sev1 worse", "change_severity"),
        ("U0FRANK01", "page <@U0BOB0001>", "page"),
        ("U0FRANK01", "escalate", "acknowledge"),
        ("U0BOB0001", "resolve done", "resolve"),
        ("U0BOB0001", "handoff <@U0BOB0001>", "resolve"),
    ],
)
def test_actions_without_the_right_are_refused(
    shared: tuple[Stack, str], user: str, text: str, right: str
) -> None:
    """sev2 rights: the refusal names the rule, and the incident is unchanged."""
    stack, cid = shared
    result = stack.driver().slash(user, text, channel_id=cid)
    assert "You may not" in result.text
    assert f"(rights.{right} of sev2 in severities.yaml)" in result.text


def test_retried_note_and_escalate_have_one_effect(
    shared: tuple[Stack, str], redis_server: str
) -> None:
    """A note and an escalation re-delivered by Slack are recorded once each."""
    stack, cid = shared
    r: redis.Redis = connect(redis_server)
    driver = stack.driver()
    note = driver.slash("U0ERIN001", "note retry-probe", channel_id=cid)
    driver.retry(note, num=1)
    driver.retry(note, num=2)
    escalated = driver.slash("U0ERIN001", "escalate retry-probe", channel_id=cid)
    driver.retry(escalated, num=1)
    incident_id = r.get(f"tocsin:chan:{cid}")
    entries = r.xrange(f"tocsin:inc:{incident_id}:timeline")
    texts = [fields["text"] for _, fields in entries]
    assert sum("retry-probe" in t and t.startswith("note") for t in texts) == 1
    assert sum("retry-probe" in t and t.startswith("escalated") for t in texts) == 1


HUGE = "x" * 40_000


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        (f"resolve {HUGE}", "1,000"),
        (f"note {HUGE}", "2,000"),
        (f"escalate {HUGE}", "500"),
        (f"sev sev3 {HUGE}", "500"),
        (f"update {HUGE}", "1,000"),
        (f"page <@U0BOB0001> {HUGE}", "1,000"),
        (f"action {HUGE} <@U0BOB0001>", "500"),
        (f"note {'<!channel> ' * 182}", "2,000"),
    ],
)
def test_oversized_free_text_is_refused_at_input_and_writes_nothing(
    shared: tuple[Stack, str], redis_server: str, text: str, limit: str
) -> None:
    """A 40,000-character field gets usage help naming the cap and its size, and neither the incident nor its timeline changes."""
    stack, cid = shared
    r: redis.Redis = connect(redis_server)
    incident_id = r.get(f"tocsin:chan:{cid}")
    timeline = f"tocsin:inc:{incident_id}:timeline"
    last = r.xrevrange(timeline, count=1)[0][0]
    before = json.loads(r.get(f"tocsin:inc:{incident_id}") or "{}")
    result = stack.driver().slash("U0ERIN001", text, channel_id=cid)
    assert result.status == 200
    assert ":warning:" in result.text
    assert f"at most {limit} characters" in result.text
    assert "this one has" in result.text
    # The escalation walks on in the background (the worker writes its own entries, the
    # escalation state and who was paged); Erin's refused command wrote nothing of its own.
    after = json.loads(r.get(f"tocsin:inc:{incident_id}") or "{}")
    walking = {"escalation", "paged"}
    assert {k: v for k, v in after.items() if k not in walking} == {
        k: v for k, v in before.items() if k not in walking
    }
    written = r.xrange(timeline, min=f"({last}")
    assert [f for _, f in written if f["actor"] == "U0ERIN001" or "x" * 100 in f["text"]] == []


def test_an_oversized_title_is_refused_before_declaring(
    shared: tuple[Stack, str], redis_server: str
) -> None:
    """A declaration whose title is over 150 characters is refused with the cap; no incident is opened."""
    stack, _ = shared
    r: redis.Redis = connect(redis_server)
    before = r.zcard("tocsin:all")
    result = stack.driver().slash("U0ERIN001", f"declare sev2 {'t' * 151}")
    assert "An incident title can be at most 150 characters; this one has 151" in result.text
    assert r.zcard("tocsin:all") == before


def test_oversized_modal_fields_come_back_as_field_errors(
    shared: tuple[Stack, str], redis_server: str
) -> None:
    """A forged update or resolve submission over the caps is answered with errors on the fields, and nothing is posted or resolved."""
    stack, cid = shared
    r: redis.Redis = connect(redis_server)
    incident_id = r.get(f"tocsin:chan:{cid}")
    before = r.get(f"tocsin:inc:{incident_id}")
    stack.driver().slash("U0ERIN001", "update", channel_id=cid)
    views = wait_for(
        lambda: [
            v for v in stack.emulator.views("U0ERIN001") if v["callback_id"] == "status_update"
        ]
    )
    view = {**views[-1]["view"], "id": views[-1]["id"]}
    values = {
        "status": "identified",
        "symptoms": HUGE,
        "actions": "rolled back",
        "next_steps": "y" * 1001,
        "next_in": "1800",
    }
    result = stack.driver().submit_view("U0ERIN001", view, values)
    assert result.json is not None
    assert result.json["response_action"] == "errors"
    assert set(result.json["errors"]) == {"symptoms", "next_steps"}
    assert "at most 1,000 characters" in result.json["errors"]["symptoms"]
    assert r.get(f"tocsin:inc:{incident_id}") == before
