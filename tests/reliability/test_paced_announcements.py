"""A paced stakeholder channel (Slack's one post per second per channel) must not hold up
pages: in an incident storm every declaration announces in the same #status."""

from __future__ import annotations

import pytest
import redis

from tests.e2e.support import wait_for
from tests.reliability.conftest import MakeStack
from tests.reliability.slack_helpers import declare
from tests.reliability.support import metadata_key

pytestmark = pytest.mark.integration
STATUS = "C0STATUS"  # the sev2 stakeholder channel of the e2e config


class TestPacedAnnouncements:
    def test_a_busy_status_channel_does_not_delay_the_next_page(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """#status is paced for 4 s: a lone worker pages the second incident at once instead of
        sleeping for the slot, and each announcement still lands there exactly once."""
        stack = make_stack(workers=1)
        seconds, micros = r.time()
        busy_until = seconds * 1000 + micros // 1000 + 4000  # ms; a burst of 2 allows one post
        tat = busy_until + 1000  # one gap (1 s) before the "theoretical arrival time"
        r.set(f"tocsin:pace:slot:chat.postMessage:{STATUS}", tat, px=20_000)
        first, _ = declare(stack, "declare sev2 Storage outage one")
        second, _ = declare(stack, "declare sev2 Storage outage two")

        def page_ts(incident_id: str) -> float | None:
            for message in stack.emulator.dms("U0CAROL01").get("U0CAROL01", []):
                key = metadata_key(message)
                if key and key[0] == incident_id and key[1].startswith("page:"):
                    return float(message["ts"])
            return None

        def announced() -> list[tuple[tuple[str, str], float]]:
            return [
                (key, float(m["ts"]))
                for m in stack.emulator.transcript(STATUS)
                if (key := metadata_key(m)) is not None
            ]

        second_page = wait_for(lambda: page_ts(second), timeout=10)
        wait_for(lambda: {k[0] for k, _ in announced()} >= {first, second}, timeout=20)
        keys = [k for k, _ in announced()]
        assert len(keys) == len(set(keys)), keys  # each announcement once
        first_announced = min(ts for (incident_id, _), ts in announced() if incident_id == first)
        assert second_page < first_announced, "the page waited for #status's slot"
        assert first_announced * 1000 >= busy_until - 50  # the paced slot was respected
