"""The pure escalation planner: the contract of how a policy is walked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import policy as planner
from bot.domain.policy import (
    EscalationState,
    EscalationStatus,
    Policy,
    Step,
    Target,
    TargetKind,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
GROUPS = {"S0MGRS": ["U0GRACE01", "U0LEAD1"], "S0EMPTY": []}


def lookup(target: Target, at: datetime) -> Sequence[str]:
    if target.kind is TargetKind.USERGROUP:
        return GROUPS.get(target.ref, [])
    if target.kind is TargetKind.SCHEDULE:
        return [] if target.ref == "nobody" else [f"U_{target.ref}"]
    return [target.ref]


def make_policy(*steps: tuple[str, ...], wait: int = 300, repeat: int = 0) -> Policy:
    return Policy(
        name="p",
        services=("svc",),
        steps=tuple(Step(tuple(Target.parse(t) for t in s), wait) for s in steps),
        repeat=repeat,
        fallback_channel="C0FALLBACK",
    )


def users(plan: planner.Plan) -> list[str]:
    return [p.user for p in plan.pages]


class TestStart:
    def test_step_one_is_paged_at_declaration_and_waits_its_wait(self) -> None:
        """Starting pages step 1 now and sets the next step due one wait later."""
        plan = planner.start(make_policy(("user:U1",), ("user:U2",)), T0, lookup)
        assert users(plan) == ["U1"]
        assert plan.state == EscalationState(EscalationStatus.ACTIVE, 0, 0, T0.timestamp() + 300)

    def test_a_person_named_twice_in_a_step_is_paged_once(self) -> None:
        """A user named directly and through a usergroup gets one page, via the first target."""
        plan = planner.start(make_policy(("user:U0LEAD1", "usergroup:S0MGRS")), T0, lookup)
        assert [(p.user, p.via) for p in plan.pages] == [
            ("U0LEAD1", "user:U0LEAD1"),
            ("U0GRACE01", "usergroup:S0MGRS"),
        ]

    def test_a_step_resolving_to_nobody_is_skipped_at_once_with_a_note(self) -> None:
        """An empty step is skipped without waiting, and the skip is noted."""
        plan = planner.start(make_policy(("schedule:nobody",), ("user:U2",)), T0, lookup)
        assert users(plan) == ["U2"]
        assert plan.state.step == 1
        assert plan.state.due_at == T0.timestamp() + 300
        assert plan.notes == ("step 1 resolved to nobody (the nobody on-call schedule): skipped",)


class TestOnDue:
    def test_not_due_before_the_wait_minus_scheduler_slack(self) -> None:
        """A tick more than a second early does nothing; within the slack it steps."""
        policy = make_policy(("user:U1",), ("user:U2",))
        state = planner.start(policy, T0, lookup).state
        assert planner.on_due(policy, state, T0 + timedelta(seconds=298), lookup) is None
        stepped = planner.on_due(policy, state, T0 + timedelta(seconds=299.5), lookup)
        assert stepped is not None
        assert users(stepped) == ["U2"]

    def test_after_the_last_step_the_policy_loops_repeat_times_then_is_exhausted(self) -> None:
        """repeat=1 walks the steps twice; the last wait of the last loop exhausts."""
        policy = make_policy(("user:U1",), ("user:U2",), repeat=1)
        plan = planner.start(policy, T0, lookup)
        seen, now = [(plan.state.step, plan.state.loop, users(plan))], T0
        while plan.state.status is EscalationStatus.ACTIVE:
            now += timedelta(seconds=300)
            stepped = planner.on_due(policy, plan.state, now, lookup)
            assert stepped is not None
            plan = stepped
            seen.append((plan.state.step, plan.state.loop, users(plan)))
        assert seen == [(0, 0, ["U1"]), (1, 0, ["U2"]), (0, 1, ["U1"]), (1, 1, ["U2"]), (1, 1, [])]
        assert plan.exhausted
        assert now == T0 + timedelta(seconds=1200)
        assert "exhausted" in plan.notes[-1]

    def test_stopped_escalation_never_steps(self) -> None:
        """An acknowledged (stopped) escalation is not advanced by a due tick."""
        policy = make_policy(("user:U1",), ("user:U2",))
        state = planner.start(policy, T0, lookup).state.stopped()
        assert planner.on_due(policy, state, T0 + timedelta(hours=1), lookup) is None

    def test_every_step_empty_exhausts_without_looping_forever(self) -> None:
        """A policy whose every step resolves to nobody ends exhausted, noting each skip."""
        policy = make_policy(("schedule:nobody",), ("usergroup:S0EMPTY",), repeat=9)
        plan = planner.start(policy, T0, lookup)
        assert plan.exhausted
        assert len([n for n in plan.notes if "skipped" in n]) == 20


class TestManualEscalate:
    def test_escalate_pages_the_next_step_now_and_restarts_its_wait(self) -> None:
        """Manual escalation from step 1 pages step 2 at once, due a wait after now."""
        policy = make_policy(("user:U1",), ("user:U2",), ("user:U3",))
        state = planner.start(policy, T0, lookup).state
        now = T0 + timedelta(seconds=60)
        plan = planner.escalate(policy, state, now, lookup)
        assert users(plan) == ["U2"]
        assert plan.state.due_at == now.timestamp() + 300

    def test_escalating_from_the_last_step_wraps_while_loops_remain(self) -> None:
        """From the last step of loop 1 with repeat=1, escalate pages step 1 of loop 2."""
        policy = make_policy(("user:U1",), ("user:U2",), repeat=1)
        state = EscalationState(EscalationStatus.ACTIVE, 1, 0, T0.timestamp())
        plan = planner.escalate(policy, state, T0, lookup)
        assert (plan.state.step, plan.state.loop, users(plan)) == (0, 1, ["U1"])

    def test_escalating_past_the_last_loop_exhausts(self) -> None:
        """With no loop left, escalating from the last step exhausts the policy."""
        policy = make_policy(("user:U1",), ("user:U2",), repeat=0)
        state = EscalationState(EscalationStatus.STOPPED, 1, 0, None)
        assert planner.escalate(policy, state, T0, lookup).exhausted

    def test_escalate_after_an_ack_resumes_paging(self) -> None:
        """An acknowledged incident escalated by hand pages the next step and is active again."""
        policy = make_policy(("user:U1",), ("user:U2",))
        state = planner.start(policy, T0, lookup).state.stopped()
        plan = planner.escalate(policy, state, T0, lookup)
        assert plan.state.status is EscalationStatus.ACTIVE
        assert users(plan) == ["U2"]


class TestTargets:
    def test_parse_rejects_unknown_kinds_naming_the_known_ones(self) -> None:
        """An unknown target kind is an error that lists user, schedule, usergroup."""
        with pytest.raises(ValueError, match=r"unknown target kind 'team'.*user, schedule"):
            Target.parse("team:payments")

    def test_policy_round_trips_through_its_snapshot_dict(self) -> None:
        """The snapshot stored with an incident rebuilds the same policy."""
        policy = make_policy(("user:U1", "schedule:x"), ("usergroup:S0MGRS",), repeat=2)
        assert Policy.from_dict(policy.to_dict()) == policy


@given(
    steps=st.integers(1, 4),
    repeat=st.integers(0, 3),
    empty=st.sets(st.integers(0, 3)),
)
def test_walk_pages_each_nonempty_step_once_per_loop(
    steps: int, repeat: int, empty: set[int]
) -> None:
    """Without acks, each non-empty (step, loop) is paged once, in order, then it exhausts."""
    spec = [("schedule:nobody",) if i in empty else (f"user:U{i}",) for i in range(steps)]
    policy = make_policy(*spec, wait=60, repeat=repeat)
    plan, now = planner.start(policy, T0, lookup), T0
    paged = [(p.step, p.loop) for p in plan.pages]
    for _ in range(100):
        if plan.state.status is not EscalationStatus.ACTIVE:
            break
        now += timedelta(seconds=60)
        stepped = planner.on_due(policy, plan.state, now, lookup)
        assert stepped is not None
        plan = stepped
        paged += [(p.step, p.loop) for p in plan.pages]
    expected = [(s, loop) for loop in range(repeat + 1) for s in range(steps) if s not in empty]
    assert paged == expected
    assert plan.exhausted


class TestRuns:
    def test_a_restarted_walk_keeps_its_run_number_through_every_step(self) -> None:
        """Pages of a restart (reopen, re-route) carry the run, so they are not mistaken for the first run's."""
        policy = make_policy(("user:U1",), ("user:U2",))
        state = EscalationState(EscalationStatus.ACTIVE, -1, 0, T0.timestamp(), run=2)
        plan = planner.on_due(policy, state, T0, lookup)
        assert plan is not None
        assert plan.state.run == 2
        later = planner.on_due(policy, plan.state, T0 + timedelta(seconds=300), lookup)
        assert later is not None
        assert later.state.run == 2
        assert planner.escalate(policy, later.state, T0, lookup).state.run == 2


class TestEdges:
    """The planner's boundaries and records (found by `make mutate`, docs/MUTATION.md)."""

    def test_a_stopped_escalation_with_a_due_time_pages_nobody(self) -> None:
        """Only an active escalation advances when due, whatever due time it still carries."""
        policy = make_policy(("user:U0A",), ("user:U0B",))
        stopped = EscalationState(EscalationStatus.STOPPED, 0, 0, T0.timestamp())
        assert planner.on_due(policy, stopped, T0 + timedelta(hours=1), lookup) is None

    def test_a_job_run_exactly_the_slack_early_pages(self) -> None:
        """A job run DUE_SLACK_S before the due time (RQ's whole seconds) pages; earlier does not."""
        policy = make_policy(("user:U0A",), ("user:U0B",))
        state = planner.start(policy, T0, lookup).state
        assert state.due_at is not None
        at = datetime.fromtimestamp(state.due_at - planner.DUE_SLACK_S, UTC)
        plan = planner.on_due(policy, state, at, lookup)
        assert plan is not None
        assert users(plan) == ["U0B"]
        early = at - timedelta(milliseconds=1)
        assert planner.on_due(policy, state, early, lookup) is None

    def test_escalating_an_exhausted_policy_changes_nothing(self) -> None:
        """Past the last step, escalation keeps the state, pages nobody and says why."""
        exhausted = EscalationState(EscalationStatus.EXHAUSTED, 1, 0, None, run=2)
        plan = planner.escalate(make_policy(("user:U0A",)), exhausted, T0, lookup)
        assert plan == planner.Plan(
            exhausted, (), ("the policy is exhausted: there is no further step to page",)
        )

    def test_exhaustion_note_counts_steps_and_loops(self) -> None:
        """The note names the policy, its steps and its loops, each singular for one."""
        one = make_policy(("schedule:nobody",), ("schedule:nobody",))
        plan = planner.start(one, T0, lookup)
        assert plan.state == EscalationState(EscalationStatus.EXHAUSTED, 1, 0, None)
        assert plan.notes == (
            "step 1 resolved to nobody (the nobody on-call schedule): skipped",
            "step 2 resolved to nobody (the nobody on-call schedule): skipped",
            "policy p exhausted after 2 steps, 1 round, with no acknowledgement",
        )
        two = make_policy(("schedule:nobody", "usergroup:S0EMPTY"), repeat=1)
        plan = planner.start(two, T0, lookup)
        assert plan.state == EscalationState(EscalationStatus.EXHAUSTED, 0, 1, None)
        assert plan.notes[0] == (
            "step 1 resolved to nobody (the nobody on-call schedule, usergroup S0EMPTY): skipped"
        )
        assert (
            plan.notes[-1] == "policy p exhausted after 1 step, 2 rounds, with no acknowledgement"
        )

    def test_steps_are_resolved_at_the_time_they_page(self) -> None:
        """Schedules are looked up at the moment of the page: on-call changes with time."""
        asked: list[datetime] = []

        def timed(target: Target, at: datetime) -> Sequence[str]:
            asked.append(at)
            return lookup(target, at)

        policy = make_policy(("user:U0A",), ("schedule:night",))
        state = planner.start(policy, T0, timed).state
        later = T0 + timedelta(minutes=10)
        planner.escalate(policy, state, later, timed)
        assert asked == [T0, later]

    def test_stopping_keeps_the_run_and_the_position(self) -> None:
        """A stopped escalation is where it was, in the same run; idle is step 1 of loop 1."""
        active = EscalationState(EscalationStatus.ACTIVE, 2, 1, T0.timestamp(), run=4)
        assert active.stopped() == EscalationState(EscalationStatus.STOPPED, 2, 1, None, 4)
        assert EscalationState.idle() == EscalationState(EscalationStatus.STOPPED, 0, 0, None, 0)

    def test_state_and_policy_round_trip_through_their_records(self) -> None:
        """Every field comes back; a state stored before runs existed reads as run 0."""
        state = EscalationState(EscalationStatus.ACTIVE, 2, 1, T0.timestamp(), run=4)
        assert EscalationState.from_dict(state.to_dict()) == state
        old = {"status": "active", "step": 2, "loop": 1, "due_at": T0.timestamp()}
        assert EscalationState.from_dict(old).run == 0
        policy = replace(make_policy(("user:U0A",), repeat=2), severities=("sev1",))
        assert Policy.from_dict(policy.to_dict()) == policy
        record = policy.to_dict()
        del record["severities"], record["fallback_channel"]
        assert Policy.from_dict(record) == replace(policy, severities=(), fallback_channel=None)

    @pytest.mark.parametrize("text", ["user:", "user: ", "user"])
    def test_a_target_without_a_reference_is_refused(self, text: str) -> None:
        """`kind:` with nothing after it names no one: the error quotes the text and the form."""
        with pytest.raises(ValueError, match="is not a target like user:U123, schedule:NAME") as e:
            Target.parse(text)
        assert str(e.value).startswith(repr(text))
