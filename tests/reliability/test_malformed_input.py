"""Invariant 7: bad input gets a clear answer naming what and where; the bot keeps running
on its last good configuration.

- any text after `/incident`, over signed HTTP: 200, a reply, never a traceback;
- 1,000 generated malformed policy files: each rejected with `path:line: message`;
- a bad policy file at reload: `tocsin check` exits 1 naming file:line, the worker logs that
  it keeps the last good config, and goes on paging with it.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, load_catalog
from bot.paging.recording import recorded
from bot.runtime import Runtime
from tests.integration.support import FAST, ROOT, Workers, wait_for, write_config
from tests.reliability.conftest import MakeStack
from tests.reliability.support import knob, log_events

pytestmark = pytest.mark.integration

EXAMPLES = int(knob("TOCSIN_FUZZ_EXAMPLES", 40, 400))
POLICIES = int(knob("TOCSIN_BAD_POLICIES", 1000, 5000))
PROBLEM = re.compile(r"^\S+\.ya?ml:\d+: \S.*$")
WORDS = [
    "declare",
    "sev1",
    "sev2",
    "ack",
    "escalate",
    "resolve",
    "page",
    "note",
    "sev",
    "role",
    "update",
    "list",
    "oncall",
    "help",
    "timeline",
    "<@U0BOB0001|bob>",
    "<!channel>",
    "<#C0STATUS|status>",
    "<!subteam^S0ENGMGRS>",
    "\u202e",
    "\x00",
    "--",
    "'",
    '"',
]


class TestAnyCommandText:
    def test_any_text_gets_a_reply_and_never_a_traceback(self, make_stack: MakeStack) -> None:
        """Generated `/incident <text>` over HTTP: 200, an answer (text or a modal), no listener error."""
        stack = make_stack(workers=1)
        driver = stack.driver()
        text = st.one_of(
            st.text(max_size=200),
            st.lists(st.sampled_from(WORDS) | st.text(max_size=12), max_size=8).map(" ".join),
        )

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(text)
        def check(command: str) -> None:
            views = len(stack.emulator.calls("views.open"))
            result = driver.slash("U0ALICE01", command)
            assert result.status == 200, (command, result.status, result.text)
            assert "Traceback" not in result.text
            if not result.text.strip():  # a modal: opened right after the ack, not before it
                wait_for(lambda: len(stack.emulator.calls("views.open")) > views, timeout=5)

        check()
        # Each example was waited for: a command's answer follows its work, a modal's opening
        # is waited for above. So any listener error is logged by now.
        errors = [e for e in log_events(stack.log_dir) if e.get("event") == "listener_error"]
        assert errors == []


def mutations(rng: random.Random) -> str:
    """A policy file with one or more defects that must be rejected."""
    defects = [
        lambda: FAST.replace(
            "wait: 2s", f"wait: {rng.choice(['2 minutes', '-5s', '0', 'soon', '1x'])}", 1
        ),
        lambda: FAST.replace(
            "user:U0ALICE01",
            rng.choice(
                ["team:x", "user:", "schedule:nope", "usergroup:", "U0ALICE01", "schedule:primry"]
            ),
        ),
        lambda: FAST.replace(
            "repeat: 0", f"repeat: {rng.choice(['-1', '10', 'twice', '[1]', '1.5'])}"
        ),
        lambda: FAST.replace("name: fast", rng.choice(["name:", "name: [a, b]", "nom: fast", ""])),
        lambda: FAST.replace(
            "services: [checkout]",
            rng.choice(["services: checkout", "services: []", "services: [1, {a: b}]", ""]),
        ),
        lambda: FAST.replace(
            rng.choice(["    wait: 2s\n", "  - notify: [user:U0ALICE01]\n", "name: fast\n"]), "", 1
        ),
        lambda: (
            FAST.replace("steps:", rng.choice(["steps: []", "steps: 3", "stepz:"]), 1).replace(
                "  - notify", "  - notify", 1
            )
            if rng.random() < 0.5
            else FAST.replace("steps:", "steps: {}", 1)
        ),
        lambda: (
            FAST
            + rng.choice(
                [
                    "unknown_key: 1\n",
                    "fallback_channel: [x]\n",
                    "repeat: 1\n",
                    "\t- bad tab\n",
                    "steps: [\n",
                    "{{\n",
                    ": :\n",
                ]
            )
        ),
        lambda: FAST.replace(
            "fallback_channel: C0INCIDENTS",
            f"fallback_channel: {rng.choice(['[]', '{}', '42'])}",
        ),
        lambda: FAST.replace("    wait: 2s\n", "    wait: 2s\n    extra: 1\n", 1),
    ]
    text = rng.choice(defects)()
    if rng.random() < 0.3:  # sometimes two defects at once
        text = text.replace("wait: 2s", "wait: 2 seconds", 1)
    return text


class TestMalformedPolicies:
    def test_a_thousand_malformed_policies_are_rejected_with_path_and_line(
        self, tmp_path: Path
    ) -> None:
        """Each generated broken policy file fails to load with `path:line: message` lines naming that file."""
        config = write_config(tmp_path / "config", fast="")
        rng = random.Random(7)
        rejected, valid = 0, []
        for _ in range(POLICIES):
            text = mutations(rng)
            (config / "fast.yaml").write_text(text)
            try:
                load_catalog(config)
            except ConfigError as error:
                lines = str(error).splitlines()
                assert lines, text
                assert all(PROBLEM.match(line) for line in lines), (text, lines)
                assert any("fast.yaml:" in line for line in lines), (text, lines)
                rejected += 1
            else:
                valid.append(text)
        assert valid == [], valid[:3]
        assert rejected == POLICIES


class TestBadReload:
    def test_a_bad_edit_keeps_the_last_good_config_running(
        self,
        runtime: Runtime,
        workers: Workers,
        config_dir: Path,
        r: redis.Redis,
        tmp_path: Path,
    ) -> None:
        """After a broken edit the worker logs it and keeps paging with the old policy; `tocsin check` names file:line."""
        workers.start(1)
        first = runtime.engine.declare(
            title="Before", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: any(p["incident"] == first.id for p in recorded(r)), timeout=20)
        (config_dir / "fast.yaml").write_text(FAST.replace("wait: 2s", "wait: 2 minutes", 1))
        check = subprocess.run(
            [sys.executable, "-m", "bot.cli", "check", str(config_dir)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert check.returncode == 1
        assert re.search(r"fast\.yaml:\d+: steps\[0\]\.wait", check.stdout), check.stdout
        second = runtime.engine.declare(
            title="After", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        # Both walk the last good policy: step 2 (bob) 2 s after step 1.
        for incident in (first, second):
            wait_for(
                lambda i=incident.id: any(
                    p["incident"] == i and p["step"] == 1 for p in recorded(r)
                ),
                timeout=20,
            )
        kept = wait_for(
            lambda: [
                e
                for e in log_events(tmp_path)
                if e.get("event") == "config_reload_failed_keeping_last_good"
            ],
            timeout=10,
        )
        assert re.search(r"fast\.yaml:\d+: ", kept[0]["problems"])
        assert kept[0]["level"] == "error"
        assert runtime.catalog.last_error is not None
