"""The outbox drain (`Delivery.drain_many`) in-process with the Slack pager against the
emulator over HTTP: what it sends, what it gives up on and says so, what one failure holds
back, what it leaves when Slack itself fails, and how it recovers an attempt a crashed worker
made. Each item's claim is released whatever became of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
import redis
from structlog.testing import capture_logs

from bot.config.settings import Settings
from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.domain.timeline import Kind
from bot.incident.delivery import Delivery, Drained
from bot.render import messages
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.state import keys
from bot.state.store import OutboxItem, Store
from tests.reliability.support import deliveries

pytestmark = pytest.mark.integration


@dataclass
class Slack:
    emu: Emulator
    env: dict[str, str]
    rt: Runtime

    def delivery(self, token: str | None = None) -> Delivery:
        """A worker's Delivery (`token`: the bot token it holds, if not the right one)."""
        env = self.env | ({"SLACK_BOT_TOKEN": token} if token else {})
        rt = Runtime.build(Settings.from_env(env), owner="w1", inline_delivery=False)
        return rt.escalation.delivery


@pytest.fixture
def slack(worker_env: dict[str, str]) -> Iterator[Slack]:
    with Emulator() as emu:
        env = worker_env | {
            "TOCSIN_PAGER": "slack",
            "SLACK_API_URL": emu.url,
            "SLACK_BOT_TOKEN": emu.bot_token,
        }
        yield Slack(emu, env, Runtime.build(Settings.from_env(env), inline_delivery=False))


def incident_owing(rt: Runtime, *items: OutboxItem) -> str:
    """A declared incident (no worker runs: its channel is not opened) owing just `items`."""
    incident = rt.engine.declare(
        title="Checkout errors", service="checkout", severity="sev2", declared_by="U0ERIN001"
    )
    rt.store.r.delete(Store.outbox_key(incident.id))
    with rt.store.transaction() as pipe:
        rt.store.add_outbox(incident.id, list(items), pipe)
    return incident.id


def page(step: int, user: str, at: float = 1.0) -> OutboxItem:
    return OutboxItem(
        f"page:{step}:0:{user}",
        OutboxKind.PAGE,
        user,
        "Checkout errors",
        step=step,
        via="x",
        created_at=at,
    )


def announce(name: str, to: str = "@incident", at: float = 2.0) -> OutboxItem:
    return OutboxItem(f"announce:{name}", OutboxKind.ANNOUNCE, to, f"{name} text", created_at=at)


def items(store: Store, incident_id: str) -> dict[str, OutboxItem]:
    return {i.key: i for i in store.outbox(incident_id)}


def claims(r: redis.Redis, incident_id: str) -> list[str]:
    return list(r.scan_iter(keys.claim(incident_id, "*")))


class TestDrain:
    def test_pages_go_first_and_each_is_recorded_where_it_landed(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """An announcement created before a page still goes after it; each sent item says
        where it landed, the page is on the timeline, a stakeholder post is recorded."""
        incident_id = incident_owing(
            slack.rt, announce("status", to="C0INCIDENTS", at=0.5), page(0, "U0ALICE01", at=1.0)
        )
        drained = slack.delivery().drain_many([incident_id])
        assert drained == Drained(sent=2)
        calls = [c for c in slack.emu.calls("chat.postMessage")]
        assert [c["args"]["channel"][0] for c in calls] == ["D", "C"]  # the DM first
        sent = items(slack.rt.store, incident_id)
        dm = slack.emu.dms("U0ALICE01")["U0ALICE01"]
        assert sent["page:0:0:U0ALICE01"].ref == f"{dm[0]['channel']}/{dm[0]['ts']}"
        assert sent["page:0:0:U0ALICE01"].attempts == 1
        assert {i.status for i in sent.values()} == {OutboxStatus.SENT}
        timeline = [(e.kind, e.text, d) for e, d in slack.rt.store.timeline_with_data(incident_id)]
        assert (
            Kind.PAGED,
            "paged <@U0ALICE01> (step 1, via x)",
            {"user": "U0ALICE01", "step": 0, "loop": 0, "via": "x"},
        ) in timeline
        assert (Kind.ANNOUNCED, "announced in <#C0INCIDENTS>", {"key": "announce:status"}) in (
            timeline
        )
        assert claims(r, incident_id) == []

    def test_an_item_that_can_never_go_fails_alone_and_is_said_in_the_channel(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """A page to a user Slack does not know is failed for good, on the timeline, and
        owed as a notice in the incident channel; a step all of whose pages failed so is
        unreachable, one with another page is not."""
        incident_id = incident_owing(
            slack.rt,
            page(0, "U0NOBODY1"),
            page(0, "U0ALICE01"),
            page(1, "U0NOBODY2"),
        )
        with capture_logs() as logs:
            drained = slack.delivery().drain_many([incident_id])
        assert drained == Drained(
            sent=1, unreachable=[(incident_id, 0, 1, 0)], notices=[incident_id]
        )
        assert {
            "event": "delivery_failed_for_good",
            "incident_id": incident_id,
            "key": "page:0:0:U0NOBODY1",
            "error": "user_not_found",
            "log_level": "warning",
        } in logs
        now = items(slack.rt.store, incident_id)
        failed = now["page:0:0:U0NOBODY1"]
        assert (failed.status, failed.last_error) == (OutboxStatus.FAILED, "user_not_found")
        notice = now["announce:failed:page:0:0:U0NOBODY1"]
        assert (notice.kind, notice.to, notice.status) == (
            OutboxKind.ANNOUNCE,
            "@incident",
            OutboxStatus.PENDING,
        )
        reason = "there is no such Slack user"
        assert notice.text == messages.undeliverable_text(OutboxKind.PAGE, "U0NOBODY1", reason)
        assert notice.created_at >= failed.created_at
        entries = [(e.kind, e.text, d) for e, d in slack.rt.store.timeline_with_data(incident_id)]
        assert (
            Kind.PAGE_FAILED,
            f"could not page <@U0NOBODY1>: {reason}",
            {"key": "page:0:0:U0NOBODY1", "to": "U0NOBODY1", "error": "user_not_found"},
        ) in entries
        assert claims(r, incident_id) == []

    def test_a_channel_that_can_never_be_posted_in_is_noted_not_paged(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """A post to a channel Slack does not know: failed for good, a note (not a failed
        page) on the timeline, a notice owed; no step is unreachable."""
        incident_id = incident_owing(slack.rt, announce("status", to="C0GONE0001"))
        drained = slack.delivery().drain_many([incident_id])
        assert drained == Drained(notices=[incident_id])
        now = items(slack.rt.store, incident_id)
        assert now["announce:status"].status is OutboxStatus.FAILED
        notice = now["announce:failed:announce:status"]
        error = now["announce:status"].last_error
        assert error
        entries = [(e.kind, e.text, d) for e, d in slack.rt.store.timeline_with_data(incident_id)]
        (found,) = [(k, t, d) for k, t, d in entries if d.get("key") == "announce:status"]
        assert found[0] is Kind.NOTE
        assert found[1].startswith("could not post in <#C0GONE0001>: ")
        assert found[2] == {"key": "announce:status", "to": "C0GONE0001", "error": error}
        assert notice.text.startswith(":warning: Could not post in <#C0GONE0001>: ")
        assert claims(r, incident_id) == []

    def test_the_incident_channel_gone_for_good_owes_no_notice_in_it(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """A post to the incident's own channel that can never go is failed and on the
        timeline, but no notice is owed there: it could not go either."""
        incident_id = incident_owing(slack.rt, announce("resolved"))
        gone = replace(slack.rt.store.get(incident_id), channel_id="C0GONE0002")
        slack.delivery().drain_many([incident_id], {incident_id: gone})
        now = items(slack.rt.store, incident_id)
        assert list(now) == ["announce:resolved"]
        assert now["announce:resolved"].status is OutboxStatus.FAILED
        assert claims(r, incident_id) == []

    def test_an_outbox_whose_incident_is_gone_is_logged_and_left(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """Items owed by an incident with no record (deleted under the drain): nothing sent,
        each logged by incident and key, its claim released."""
        with slack.rt.store.transaction() as pipe:
            slack.rt.store.add_outbox("20260309-77", [page(0, "U0ALICE01")], pipe)
        with capture_logs() as logs:
            assert slack.delivery().drain_many(["20260309-77"]) == Drained()
        assert {
            "event": "outbox_without_incident",
            "incident_id": "20260309-77",
            "key": "page:0:0:U0ALICE01",
            "log_level": "warning",
        } in logs
        assert slack.emu.calls("chat.postMessage") == []
        assert claims(r, "20260309-77") == []

    def test_an_item_waiting_for_its_channel_holds_back_only_its_destination(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """No incident channel yet: the first post to it waits (not a failure: opening the
        channel drains it; nothing on the timeline), the next waits behind it, and a page and
        another channel's post still go."""
        incident_id = incident_owing(
            slack.rt,
            announce("first", at=1.0),
            announce("second", at=2.0),
            announce("status", to="C0INCIDENTS", at=3.0),
            page(0, "U0ALICE01", at=4.0),
        )
        delivery = slack.delivery()
        drained = delivery.drain_many([incident_id])
        assert drained.sent == 2
        assert drained.failures == {incident_id: ["announce:second: waits for announce:first"]}
        now = items(slack.rt.store, incident_id)
        first, second = now["announce:first"], now["announce:second"]
        assert first.status is OutboxStatus.PENDING
        assert (second.status, second.attempts, second.last_error) == (
            OutboxStatus.PENDING,
            0,
            None,
        )
        assert claims(r, incident_id) == []
        delivery.drain_many([incident_id])  # still no channel: still waiting, still not news
        failed = [
            e.text
            for e, _ in slack.rt.store.timeline_with_data(incident_id)
            if e.kind is Kind.PAGE_FAILED
        ]
        assert failed == []
        assert items(slack.rt.store, incident_id)["announce:status"].status is OutboxStatus.SENT

    def test_slack_refusing_the_bot_stops_the_drain_and_its_return_is_noted(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """A refused token fails every call: the rest is not attempted, the gap begins; with
        Slack answering again everything goes and the gap is on the timeline once."""
        incident_id = incident_owing(
            slack.rt, page(0, "U0ALICE01", at=1.0), page(0, "U0BOB0001", at=2.0)
        )
        drained = slack.delivery(token="xoxb-revoked").drain_many([incident_id])
        assert drained.sent == 0
        assert (
            drained.failures[incident_id][1] == "page:0:0:U0BOB0001: not attempted (Slack failing)"
        )
        assert r.get(keys.slack_gap(incident_id)) is not None
        assert items(slack.rt.store, incident_id)["page:0:0:U0BOB0001"].attempts == 0
        assert claims(r, incident_id) == []
        assert slack.delivery().drain_many([incident_id]) == Drained(sent=2)
        assert r.get(keys.slack_gap(incident_id)) is None
        gaps = [
            (e.text, d)
            for e, d in slack.rt.store.timeline_with_data(incident_id)
            if "slack_gap" in d
        ]
        assert len(gaps) == 1
        assert gaps[0][0].startswith("Slack unreachable from ")
        begun, ended = gaps[0][1]["slack_gap"]
        assert begun <= ended

    def test_an_attempt_that_landed_before_a_crash_is_not_sent_again(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        """Attempted by a worker that died after Slack posted it: found by its metadata and
        recorded as sent; attempted but never landed: sent now, once."""
        landed, lost = page(0, "U0ALICE01"), page(0, "U0BOB0001")
        incident_id = incident_owing(slack.rt, landed, lost)
        incident = slack.rt.store.get(incident_id)
        ref = slack.rt.escalation.delivery.pager.deliver(landed, incident)  # then the crash
        now = slack.rt.store.get(incident_id).declared_at.timestamp()
        for item in (landed, lost):
            item.attempts, item.created_at = 1, now
            slack.rt.store.save_outbox_item(incident_id, item)
        assert slack.delivery().drain_many([incident_id]) == Drained(sent=2)
        assert deliveries(slack.emu) == {(incident_id, landed.key): 1, (incident_id, lost.key): 1}
        after = items(slack.rt.store, incident_id)
        assert (after[landed.key].ref, after[landed.key].attempts) == (ref, 1)
        assert after[lost.key].attempts == 2


class TestClaimsOutlivedByTheirLease:
    """A worker too slow to renew its claim (starved, paused) finds it taken over: it must
    neither send the item nor drop the claim of the worker that holds it now."""

    def test_an_attempt_is_recorded_only_under_ones_own_claim(
        self, slack: Slack, r: redis.Redis
    ) -> None:
        item = page(1, "U0ALICE01")
        incident_id = incident_owing(slack.rt, item)
        store = slack.rt.store
        [(_, _, held)] = store.claim_many([(incident_id, item.key)], "slow", lease_s=30)
        assert held is not None
        r.set(keys.claim(incident_id, item.key), "fast")  # the lease ran out; "fast" took it
        held.attempts = 1
        assert store.attempting(incident_id, held, "slow") is False
        assert items(store, incident_id)[item.key].attempts == 0  # nothing written
        store.release_many([(incident_id, item.key)], "slow")
        assert r.get(keys.claim(incident_id, item.key)) == "fast"  # still the new holder's
        held.attempts = 2
        assert store.attempting(incident_id, held, "fast") is True
        assert items(store, incident_id)[item.key].attempts == 2
        store.delivered(incident_id, held, None, "slow")  # slow's send landed after all
        assert r.get(keys.claim(incident_id, item.key)) == "fast"
