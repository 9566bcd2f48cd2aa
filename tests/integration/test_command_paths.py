"""The short paths of commands (real Valkey): what a note, a refused click and a command
typed in an incident channel cost in Redis, and that they stay correct."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import redis

from bot.domain.timeline import Kind
from bot.incident.notes import Moved, Retried
from bot.incident.spec import Outcome
from bot.runtime import Runtime
from bot.slack import belongs
from bot.slack.edge import Click
from bot.state import keys
from bot.state.counters import COUNTERS
from bot.state.write_limits import WriteLimiter

pytestmark = pytest.mark.integration


def calls(r: redis.Redis, command: str) -> int:
    stats = r.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0)) if isinstance(stats, dict) else 0


def link(runtime: Runtime, incident_id: str, channel: str) -> None:
    with runtime.store.r.pipeline() as pipe:
        runtime.store.put(replace(runtime.store.get(incident_id), channel_id=channel), pipe)
        runtime.store.link_channel(channel, incident_id)
        pipe.execute()


class TestNoTransactionNeeded:
    def test_a_note_and_a_refused_ack_take_no_watch(self, runtime: Runtime, r: redis.Redis) -> None:
        """A note only adds to the timeline and a second ack is refused by the state: neither
        WATCHes the incident; the ack that changes it does, and the note is recorded."""
        incident = runtime.engine.declare(
            title="Fast paths", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        before = calls(r, "watch")
        assert runtime.engine.note(incident.id, "U0ALICE01", "cache <hit> ratio fell").ok
        assert calls(r, "watch") == before
        assert runtime.engine.acknowledge(incident.id, "U0ERIN001").ok
        assert calls(r, "watch") == before + 1
        refused = runtime.engine.acknowledge(incident.id, "U0BOB0001")
        assert not refused.ok
        assert "U0ERIN001" in refused.message  # told who got there first
        assert calls(r, "watch") == before + 1
        notes = [e for e in runtime.store.timeline(incident.id) if e.kind is Kind.NOTE]
        assert [n.text for n in notes] == ["note by <@U0ALICE01>: cache &lt;hit&gt; ratio fell"]
        assert runtime.store.get(incident.id).acknowledged_by == "U0ERIN001"

    def test_a_refusal_is_answered_from_the_callers_read(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """A click passes the incident it just read (to check where the button lives); a
        refused ack is answered from it, with no second read."""
        incident = runtime.engine.declare(
            title="One read", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        assert runtime.engine.acknowledge(incident.id, "U0ERIN001").ok
        seen = runtime.store.get(incident.id)
        before = calls(r, "get")
        refused = runtime.engine.acknowledge(incident.id, "U0BOB0001", seen)
        assert not refused.ok
        assert "U0ERIN001" in refused.message
        assert calls(r, "get") == before

    def test_an_unchanged_document_is_parsed_once_and_a_changed_one_again(
        self, runtime: Runtime
    ) -> None:
        incident = runtime.engine.declare(
            title="Parsed once", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        first = runtime.store.get(incident.id)
        assert runtime.store.get(incident.id) is first
        assert runtime.engine.acknowledge(incident.id, "U0ERIN001").ok
        after = runtime.store.get(incident.id)
        assert after is not first
        assert after.acknowledged_by == "U0ERIN001"
        assert first.acknowledged_by is None


class TestChannelLookup:
    def test_the_link_is_remembered_and_checked_against_the_incident(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """Once known, a channel's incident costs one read; a cleared database whose new
        incident took the same channel id is noticed, not served from memory."""
        first = runtime.engine.declare(
            title="First", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        link(runtime, first.id, "C0SAME0001")
        found = runtime.store.incident_in_channel("C0SAME0001")
        assert found is not None
        assert found.id == first.id
        gets = calls(r, "get")
        found = runtime.store.incident_in_channel("C0SAME0001")
        assert found is not None
        assert found.id == first.id
        assert calls(r, "get") == gets + 1  # the incident only, not the link

        r.flushdb()
        assert runtime.store.incident_in_channel("C0SAME0001") is None
        second = runtime.engine.declare(
            title="Second", service="checkout", severity="sev1", declared_by="U0BOB0001"
        )
        link(runtime, second.id, "C0SAME0001")
        found = runtime.store.incident_in_channel("C0SAME0001")
        assert found is not None
        assert found.title == "Second"
        assert runtime.store.incident_in_channel("C0OTHER001") is None

    def test_the_retry_check_reads_a_known_channels_incident_in_the_same_round_trip(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """Once the link is known, the retry check also brings the incident (one round trip);
        a retried command is still told apart, and an unknown channel brings nothing."""
        incident = runtime.engine.declare(
            title="Retry", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        link(runtime, incident.id, "C0RETRY001")
        first, here, _ = runtime.store.first_delivery_in("cmd:t1", "C0RETRY001")
        assert first
        assert here is None  # the link was not known yet
        assert runtime.store.incident_in_channel("C0RETRY001") is not None
        first, here, _ = runtime.store.first_delivery_in("cmd:t2", "C0RETRY001")
        assert first
        assert here is not None
        assert here.id == incident.id
        again, _, _ = runtime.store.first_delivery_in("cmd:t2", "C0RETRY001")
        assert not again  # Slack's retry of the same command
        first, here, _ = runtime.store.first_delivery_in("cmd:t3", "C0ELSEWHERE")
        assert first
        assert here is None

    def test_a_notes_write_limit_is_asked_in_the_retry_checks_round_trip(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """In a known channel a note's write limit is asked with the retry check, not again
        by the note; a retried note gives back what it counted; past the burst, refused."""
        incident = runtime.engine.declare(
            title="Limit", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        link(runtime, incident.id, "C0LIMIT001")
        assert runtime.store.incident_in_channel("C0LIMIT001") is not None  # link known
        runtime.engine.limiter = WriteLimiter(runtime.store.r, per_minute=1, burst=2)
        ask = runtime.engine.limit_for("U0ALICE01")
        assert ask is not None
        key = WriteLimiter.key(incident.id, "U0ALICE01")
        first, here, limited = runtime.store.first_delivery_in("cmd:n1", "C0LIMIT001", also=ask)
        assert first
        assert here is not None
        assert limited == 0
        counted = r.get(key)
        before = calls(r, "evalsha") + calls(r, "eval")
        assert runtime.engine.note(incident.id, "U0ALICE01", "one", here, limited).ok
        assert calls(r, "evalsha") + calls(r, "eval") == before  # not asked a second time
        again, _, limited = runtime.store.first_delivery_in("cmd:n1", "C0LIMIT001", also=ask)
        assert not again
        runtime.engine.not_run(incident.id, "U0ALICE01", limited)
        assert r.get(key) == counted  # the retry's count was given back
        replies = []
        for n in (2, 3):
            _, here, limited = runtime.store.first_delivery_in(f"cmd:n{n}", "C0LIMIT001", also=ask)
            replies.append(runtime.engine.note(incident.id, "U0ALICE01", f"n{n}", here, limited))
        assert replies[0].ok
        assert not replies[1].ok
        assert replies[1].message.startswith("Easy there"), replies[1].message
        notes = [e.text for e in runtime.store.timeline(incident.id) if e.kind is Kind.NOTE]
        assert notes == ["note by <@U0ALICE01>: one", "note by <@U0ALICE01>: n2"]


class TestClicks:
    def test_a_click_is_checked_and_its_incident_read_in_one_round_trip(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """A click from the incident's channel or from a paged person's DM acts (a retry of
        it is told apart); one from elsewhere, or from someone never paged, is refused in
        words and its delivery forgotten, so a retry of it is refused in words again."""
        incident = runtime.engine.declare(
            title="Clicks", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        link(runtime, incident.id, "C0CLICK001")
        told: list[str] = []

        def respond(text: str, **_: object) -> None:
            told.append(text)

        def first_click(user: str, channel: str | None, ts: str) -> tuple[bool, bool]:
            click = Click(user, "ack", incident.id, "trigger", ts, channel, None, channel is None)
            key = f"act:ack:{user}:{ts}"
            found, first = belongs.first_click(
                runtime.store, click, incident.id, respond, key, lambda _, u: u == "U0ALICE01"
            )
            assert found is None or found.id == incident.id
            return found is not None, first

        before = calls(r, "get") + calls(r, "set")
        assert first_click("U0BOB0001", "C0CLICK001", "1.1") == (True, True)
        assert calls(r, "get") + calls(r, "set") == before + 2  # one SET NX, one GET
        assert first_click("U0BOB0001", "C0CLICK001", "1.1") == (True, False)  # a retry
        assert first_click("U0ALICE01", None, "1.2") == (True, True)  # her page DM
        assert told == []
        refused = [("U0BOB0001", "C0ELSEWHERE", "1.3"), ("U0BOB0001", None, "1.4")]
        for user, channel, ts in refused * 2:  # each twice: Slack's retry is refused too
            assert first_click(user, channel, ts) == (False, True)
        assert told == [f":no_entry: {belongs.NOT_HERE}"] * 4
        assert r.exists(keys.seen("act:ack:U0BOB0001:1.3"), keys.seen("act:ack:U0BOB0001:1.4")) == 0


class TestOpenAndClosedSets:
    def test_resolving_moves_the_incident_to_the_closed_set_and_reopening_back(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """A resolved incident leaves the open set for the closed one, scored by its resolution
        time; reopened, it is open again and no longer closed (found by `make mutate`)."""
        store = runtime.store
        incident = runtime.engine.declare(
            title="Sets", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        assert store.open_ids() == [incident.id]
        assert runtime.engine.resolve(incident.id, "U0ERIN001").ok
        resolved = store.get(incident.id)
        assert resolved.resolved_at is not None
        assert store.open_ids() == []
        assert r.zscore(store.closed_key, incident.id) == resolved.resolved_at.timestamp()
        assert runtime.engine.reopen(incident.id, "U0ERIN001").ok
        assert store.open_ids() == [incident.id]
        assert r.zscore(store.closed_key, incident.id) is None


class TestNoteInOneRoundTrip:
    @staticmethod
    def seen(runtime: Runtime, title: str, channel: str, drill: bool = False) -> str:
        incident = runtime.engine.declare(
            title=title, service="checkout", severity="sev2", declared_by="U0ERIN001", drill=drill
        )
        link(runtime, incident.id, channel)
        assert runtime.store.incident_in_channel(channel) is not None  # read by this process
        return incident.id

    def test_a_note_on_an_incident_read_before_is_one_call_and_a_retry_is_told_apart(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """Retry key, limiter and entry in one script call: recorded once, counted in
        /metrics, answered as the usual path answers; Slack's re-send writes nothing."""
        incident_id = self.seen(runtime, "Quick", "C0QUICK001")
        runtime.engine.limiter = WriteLimiter(runtime.store.r, per_minute=60, burst=5)
        field = '["timeline",{"kind":"note"}]'
        first = runtime.engine.quick_note("C0QUICK001", "U0BOB0001", "first", "cmd:q0")
        assert isinstance(first, Outcome)  # its script is loaded now (one NOSCRIPT on the way)
        counted = int(r.hget(COUNTERS, field) or 0)
        before = {c: calls(r, c) for c in ("evalsha", "eval", "multi", "get", "set", "xadd")}
        quick = runtime.engine.quick_note("C0QUICK001", "U0ALICE01", " cache <hit> fell ", "cmd:q1")
        assert isinstance(quick, Outcome)
        assert quick.ok
        assert quick.message == "note by <@U0ALICE01>: cache &lt;hit&gt; fell"
        after = {c: calls(r, c) for c in before}
        assert after["evalsha"] == before["evalsha"] + 1
        assert after["eval"] == before["eval"]
        assert after["multi"] == before["multi"]  # no transaction of its own
        assert after["xadd"] == before["xadd"] + 1  # inside the script
        assert r.exists(keys.seen("cmd:q1")) == 1
        assert r.exists(WriteLimiter.key(incident_id, "U0ALICE01")) == 1  # counted
        retried = runtime.engine.quick_note("C0QUICK001", "U0ALICE01", "cache <hit> fell", "cmd:q1")
        assert isinstance(retried, Retried)
        notes = [e.text for e in runtime.store.timeline(incident_id) if e.kind is Kind.NOTE]
        assert notes == [
            "note by <@U0BOB0001>: first",
            "note by <@U0ALICE01>: cache &lt;hit&gt; fell",
        ]
        assert int(r.hget(COUNTERS, field) or 0) == counted + 1

    def test_an_incident_changed_since_goes_the_usual_way_with_the_fresh_read(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """Acknowledged meanwhile (by another process: this one's read is stale), the note
        is not written on the old read; the script returns the incident as stored, with the
        retry key and the limiter's count taken, and the usual path records it once."""
        incident_id = self.seen(runtime, "Moved", "C0MOVED001")
        runtime.engine.limiter = WriteLimiter(runtime.store.r, per_minute=1, burst=2)
        stored = runtime.store.get(incident_id)  # what this process has read
        retitled = replace(stored, title="Moved, retitled")  # by another process
        r.set(keys.incident(incident_id), json.dumps(retitled.to_dict()))
        moved = runtime.engine.quick_note("C0MOVED001", "U0ALICE01", "one", "cmd:m1")
        assert isinstance(moved, Moved)
        assert moved.incident is not None
        assert moved.incident.title == "Moved, retitled"  # the document as stored now
        assert moved.limited == 0
        assert runtime.store.timeline(incident_id)[-1].kind is not Kind.NOTE  # not written
        limiter_ms = r.get(WriteLimiter.key(incident_id, "U0ALICE01"))
        outcome = runtime.engine.note(incident_id, "U0ALICE01", "one", moved.incident, 0)
        assert outcome.ok
        assert r.get(WriteLimiter.key(incident_id, "U0ALICE01")) == limiter_ms  # asked once
        again = runtime.engine.quick_note("C0MOVED001", "U0ALICE01", "two", "cmd:m2")
        assert isinstance(again, Outcome)  # the fresh read is the one checked now
        notes = [e.text for e in runtime.store.timeline(incident_id) if e.kind is Kind.NOTE]
        assert notes == ["note by <@U0ALICE01>: one", "note by <@U0ALICE01>: two"]

    def test_past_the_write_limit_refused_in_words_and_nothing_written(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        incident_id = self.seen(runtime, "Limited", "C0LIMQ0001")
        runtime.engine.limiter = WriteLimiter(runtime.store.r, per_minute=1, burst=1)
        answers = [
            runtime.engine.quick_note("C0LIMQ0001", "U0ALICE01", f"n{n}", f"cmd:l{n}")
            for n in (1, 2)
        ]
        assert isinstance(answers[0], Outcome)
        assert answers[0].ok
        assert isinstance(answers[1], Outcome)
        assert not answers[1].ok
        assert answers[1].message.startswith("Easy there"), answers[1].message
        notes = [e.text for e in runtime.store.timeline(incident_id) if e.kind is Kind.NOTE]
        assert notes == ["note by <@U0ALICE01>: n1"]
        refused = '["refused",{"action":"note","reason":"rate_limit"}]'
        assert int(r.hget(COUNTERS, refused) or 0) == 1

    def test_what_it_cannot_decide_alone_writes_nothing(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """An unknown channel, an empty note and an alert source are left to the usual path,
        with nothing written (not even the retry key); a drill's note counts nothing."""
        drill_id = self.seen(runtime, "Drill", "C0DRILL001", drill=True)
        assert runtime.engine.quick_note("C0UNKNOWN1", "U0ALICE01", "x", "cmd:u1") is None
        assert runtime.engine.quick_note("C0DRILL001", "U0ALICE01", "  ", "cmd:u2") is None
        source = "alerts:prod"
        assert runtime.engine.quick_note("C0DRILL001", source, "x", "cmd:u3") is None
        assert r.exists(*(keys.seen(f"cmd:u{n}") for n in (1, 2, 3))) == 0
        counters = r.hgetall(COUNTERS)
        written = runtime.engine.quick_note("C0DRILL001", "U0ALICE01", "drill note", "cmd:d1")
        assert isinstance(written, Outcome)
        assert written.ok
        assert r.hgetall(COUNTERS) == counters
        assert runtime.store.timeline(drill_id)[-1].text == "note by <@U0ALICE01>: drill note"
