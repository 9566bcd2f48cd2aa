"""The self-test's pages are sent once when Slack posts one and the answer never comes back:
the production client (paced, retrying only what Slack cannot have done) against the
emulator over HTTP, which resets the connection after posting."""

from __future__ import annotations

import redis

from bot.config.settings import Settings
from bot.domain.drills import SelfTest
from bot.drills.selftest import SelfTests
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.slack_api.client import slack_client
from bot.slack_api.pacing import Pacer
from bot.state.drills import DrillResults
from bot.state.selftests import SelfTestRuns, run_id

CAROL = "U0CAROL01"  # on call for `primary` (tests/integration/support.py)


def self_test_pages(emulator: Emulator) -> list[str]:
    return [m["text"] for m in emulator.dms(CAROL).get(CAROL, []) if "*Self-test*" in m["text"]]


def test_a_page_slack_posted_without_answering_is_found_not_sent_again(
    worker_env: dict[str, str], runtime: Runtime, r: redis.Redis, emulator: Emulator
) -> None:
    """chat.postMessage takes effect and the connection drops: the send fails with its
    attempt recorded. The next send asks the DM's history, finds the page by its metadata
    key, records it sent (its Slack ts is when it landed) and posts nothing more."""
    settings = Settings.from_env(
        worker_env | {"SLACK_API_URL": emulator.url, "SLACK_BOT_TOKEN": emulator.bot_token}
    )
    slack = slack_client(settings, Pacer(r), counts=r)
    runs = SelfTestRuns(r)
    tests = SelfTests(
        runtime.oncall.catalog,
        runs,
        DrillResults(r),
        runtime.drill_schedule.timers,
        runtime.store.markers,
        slack,
        "worker-1",
        1.0,
    )
    emulator.faults.add("reset", method="chat.postMessage", when="after", nth=1)
    tests.open(1_800_000_000, SelfTest("0 10 * * 1", answer_within_s=60))
    run = run_id(1_800_000_000)

    assert tests.send(run) is False  # the post landed, the answer did not
    assert len(self_test_pages(emulator)) == 1
    assert (runs.ledger(run).state(CAROL) or "").startswith("attempt:")

    assert tests.send(run) is False  # found, not sent again
    assert len(self_test_pages(emulator)) == 1
    ref = runs.ledger(run).ref(CAROL)
    assert ref is not None
    assert len(emulator.calls("chat.postMessage")) == 1
    assert len(emulator.calls("conversations.history")) == 1

    tests.report(run)
    (result,) = DrillResults(r).last(1)
    (carol,) = result.people
    assert carol.user == CAROL
    assert carol.sent_at == float(ref.rpartition("/")[2])
