"""The incident state machine and decision rights."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from bot.domain import incident as machine
from bot.domain.incident import Action, Incident, Roles, Status, TransitionRefused
from bot.domain.policy import EscalationState, EscalationStatus, Policy, Step, Target
from bot.domain.severity import Rights
from bot.render import messages

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def fresh(**changes: object) -> Incident:
    incident = Incident(
        id="20260301-1",
        title="Checkout errors",
        service="checkout",
        severity="sev2",
        declared_by="U0ERIN001",
        declared_at=T0,
        escalation=EscalationState(EscalationStatus.ACTIVE, 0, 0, T0.timestamp() + 300),
        token=3,
        paged=("U0ALICE01",),
    )
    return replace(incident, **changes)  # type: ignore[arg-type]


class TestTransitions:
    def test_ack_stops_escalation_bumps_the_token_and_records_who(self) -> None:
        """Acknowledging moves to acknowledged, stops escalation and invalidates scheduled steps."""
        acked = machine.acknowledge(fresh(), "U0ALICE01", T0 + timedelta(minutes=2))
        assert acked.status is Status.ACKNOWLEDGED
        assert acked.escalation.status is EscalationStatus.STOPPED
        assert acked.escalation.due_at is None
        assert acked.token == 4
        assert (acked.acknowledged_by, acked.acknowledged_at) == (
            "U0ALICE01",
            T0 + timedelta(minutes=2),
        )

    def test_second_ack_is_refused_naming_the_first(self) -> None:
        """A second acknowledgement is refused and says who acknowledged first."""
        acked = machine.acknowledge(fresh(), "U0ALICE01", T0)
        with pytest.raises(
            TransitionRefused, match=r"already acknowledged by U0ALICE01"
        ) as refused:
            machine.acknowledge(acked, "U0BOB0001", T0)
        assert "<" not in refused.value.reason  # the domain words it plainly; render/ for Slack
        told = messages.refusal(refused.value)
        assert told == "already acknowledged by <@U0ALICE01> at 10:00:00 UTC"

    def test_mitigate_implies_an_acknowledgement(self) -> None:
        """Mitigating an unacknowledged incident records the mitigator as first responder."""
        mitigated = machine.mitigate(fresh(), "U0BOB0001", T0)
        assert mitigated.status is Status.MITIGATED
        assert mitigated.acknowledged_by == "U0BOB0001"
        assert mitigated.mitigated_at == T0

    def test_resolve_stops_everything_and_closes(self) -> None:
        """Resolve from any open status closes the incident and stops escalation."""
        for start in (Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED):
            done = machine.resolve(fresh(status=start), "U0ALICE01", T0)
            assert done.status is Status.RESOLVED
            assert not done.is_open
            assert done.escalation.status is EscalationStatus.STOPPED

    def test_nothing_but_reopen_applies_to_a_resolved_incident(self) -> None:
        """A resolved incident refuses ack/escalate/mitigate/resolve and can be reopened."""
        done = machine.resolve(fresh(), "U0ALICE01", T0)
        for action in (Action.ACKNOWLEDGE, Action.ESCALATE, Action.MITIGATE, Action.RESOLVE):
            with pytest.raises(TransitionRefused, match="resolved; reopen it first"):
                machine.check_transition(done, action)
        assert machine.reopen(done).status is Status.TRIGGERED

    def test_incident_round_trips_through_storage_form(self) -> None:
        """to_dict/from_dict preserve every field."""
        incident = machine.acknowledge(fresh(roles=Roles(commander="U0LEAD1")), "U0ALICE01", T0)
        assert Incident.from_dict(incident.to_dict()) == incident


class TestDecisionRights:
    def test_rights_name_the_rule_that_refused(self) -> None:
        """A refusal names the severity, the right and who holds it."""
        rights = Rights(resolve=("role:commander", "usergroup:S0ENGMGRS"))
        allowed, rule = machine.authorize(rights, Action.RESOLVE, fresh(), "U0BOB0001")
        assert not allowed
        assert rule == "sev2 rights.resolve allows only role:commander, usergroup:S0ENGMGRS"

    def test_role_usergroup_user_and_responder_principals(self) -> None:
        """Each principal kind admits exactly the people it describes."""
        incident = fresh(roles=Roles(commander="U0LEAD1"))
        cases = [
            (("role:commander",), "U0LEAD1", frozenset(), True),
            (("role:commander",), "U0ALICE01", frozenset(), False),
            (("usergroup:S0ENGMGRS",), "U0GRACE01", frozenset({"S0ENGMGRS"}), True),
            (("user:U0BOB0001",), "U0BOB0001", frozenset(), True),
            (("responder",), "U0ALICE01", frozenset(), True),  # was paged
            (("responder",), "U0FRANK01", frozenset(), False),
            (("anyone",), "U0FRANK01", frozenset(), True),
        ]
        for principals, user, groups, expected in cases:
            rights = Rights(acknowledge=principals)
            allowed, _ = machine.authorize(rights, Action.ACKNOWLEDGE, incident, user, groups)
            assert allowed is expected, (principals, user)


class TestRightsWalkarounds:
    SEV2 = Rights(acknowledge=("responder",), change_severity=("responder",))
    SEV1 = Rights(change_severity=("role:commander", "usergroup:S0ENGMGRS"))

    def test_unset_rights_leave_resolve_and_severity_to_responders(self) -> None:
        """Unset, acknowledge and page are open; resolve and change_severity need a responder."""
        rights, incident = Rights(), fresh()
        for action in (Action.ACKNOWLEDGE, Action.PAGE):
            assert machine.authorize(rights, action, incident, "U0FRANK01")[0]
        for action in (Action.RESOLVE, Action.CHANGE_SEVERITY, Action.ASSIGN_ROLE):
            allowed, rule = machine.authorize(rights, action, incident, "U0FRANK01")
            assert not allowed
            assert rule.endswith("allows only responder")
            assert machine.authorize(rights, action, incident, "U0ALICE01")[0]

    def test_a_severity_change_needs_the_right_on_both_tiers(self) -> None:
        """A responder may change the sev2 but not move it into sev1, whose rule is named;
        the commander may; an outsider is refused by the current tier first."""
        incident = fresh(roles=Roles(commander="U0LEAD1"))

        def change(user: str, groups: frozenset[str] = frozenset()) -> tuple[bool, str]:
            return machine.authorize_severity_change(
                self.SEV2, "sev1", self.SEV1, incident, user, groups
            )

        assert change("U0ALICE01") == (
            False,
            "sev1 rights.change_severity allows only role:commander, usergroup:S0ENGMGRS",
        )
        assert change("U0LEAD1")[0]
        assert not change("U0GRACE01", frozenset({"S0ENGMGRS"}))[0]  # not a sev2 responder
        assert change("U0FRANK01") == (False, "sev2 rights.change_severity allows only responder")

    def test_a_page_grants_rights_only_from_a_responder_or_a_named_pager(self) -> None:
        """Paging as `anyone` grants nothing; a responder's page or a page by someone the page
        right names does."""
        incident = fresh()
        grants = machine.page_grants_rights
        assert not grants(Rights(page=("anyone",)), incident, "U0FRANK01")
        assert grants(Rights(page=("anyone",)), incident, "U0ALICE01")  # paged by the policy
        named = Rights(page=("usergroup:S0ENGMGRS",))
        assert grants(named, incident, "U0GRACE01", frozenset({"S0ENGMGRS"}))
        assert not grants(named, incident, "U0FRANK01")

    def test_self_pages_and_ungranted_pages_make_no_responder(self) -> None:
        """Paging oneself never grants; an ungranted page leaves the paged person outside
        `responder` until a page that grants arrives (a policy step's, or a responder's)."""
        incident = fresh()
        selfpaged = machine.record_pages(incident, ["U0FRANK01"], pager="U0FRANK01")
        assert "U0FRANK01" in selfpaged.paged
        assert "U0FRANK01" not in selfpaged.responders()
        friend = machine.record_pages(selfpaged, ["U0DAVE001"], grant=False, pager="U0FRANK01")
        assert friend.paged == ("U0ALICE01", "U0FRANK01", "U0DAVE001")
        assert not {"U0FRANK01", "U0DAVE001"} & friend.responders()
        vouched = machine.record_pages(friend, ["U0DAVE001", "U0ALICE01"], pager="U0ERIN001")
        assert vouched.paged == friend.paged
        assert "U0DAVE001" in vouched.responders()
        assert "U0FRANK01" not in vouched.responders()
        by_policy = machine.record_pages(vouched, ["U0FRANK01"])
        assert "U0FRANK01" in by_policy.responders()
        assert Incident.from_dict(friend.to_dict()) == friend


class TestRightsTable:
    """Which right decides each action (found by `make mutate`, docs/MUTATION.md)."""

    HOLDERS: ClassVar[dict[str, str]] = {
        "acknowledge": "U0ACK0001",
        "resolve": "U0RES0001",
        "change_severity": "U0SEV0001",
        "page": "U0PAGE001",
    }
    DECIDED_BY: ClassVar[dict[Action, str]] = {
        Action.ACKNOWLEDGE: "acknowledge",
        Action.ESCALATE: "acknowledge",
        Action.MITIGATE: "acknowledge",
        Action.UPDATE: "acknowledge",
        Action.RESOLVE: "resolve",
        Action.REOPEN: "resolve",
        Action.ASSIGN_ROLE: "resolve",
        Action.CORRECT_MILESTONE: "resolve",
        Action.CLOSE_ACTION_ITEM: "resolve",
        Action.COMPLETE_REVIEW: "resolve",
        Action.CHANGE_SEVERITY: "change_severity",
        Action.PAGE: "page",
    }

    def test_each_action_admits_the_holder_of_its_right_and_no_other(self) -> None:
        """Every action but notes is decided by one right: its holder may, the others may not."""
        rights = Rights(**{name: (f"user:{user}",) for name, user in self.HOLDERS.items()})
        for action, right in self.DECIDED_BY.items():
            for name, user in self.HOLDERS.items():
                allowed, rule = machine.authorize(rights, action, fresh(), user)
                assert allowed is (name == right), (action, user)
                if allowed:
                    assert rule == f"{right}: user:{user}"

    def test_notes_and_action_items_are_open_to_anyone(self) -> None:
        """Adding a note or a follow-up needs no right, even when every right is closed."""
        closed = Rights(acknowledge=(), resolve=(), change_severity=(), page=())
        for action in (Action.NOTE, Action.ADD_ACTION_ITEM):
            assert machine.authorize(closed, action, fresh(), "U0FRANK01") == (
                True,
                "anyone may add notes",
            )

    def test_a_principal_of_an_unknown_kind_admits_nobody(self) -> None:
        """A principal the rules do not know (a channel id here) grants nothing, to anyone."""
        rights = Rights(acknowledge=("channel:U0FRANK01",))
        assert not machine.authorize(rights, Action.ACKNOWLEDGE, fresh(), "U0FRANK01")[0]

    def test_severity_change_checks_the_users_groups_on_both_tiers(self) -> None:
        """A usergroup named on both tiers lets its member move the incident between them."""
        rights = Rights(change_severity=("usergroup:S0ENGMGRS",))
        groups = frozenset({"S0ENGMGRS"})
        change = machine.authorize_severity_change
        assert change(rights, "sev1", rights, fresh(), "U0GRACE01", groups)[0]
        assert not change(rights, "sev1", rights, fresh(), "U0GRACE01")[0]

    def test_a_page_by_a_user_the_page_right_names_grants_rights(self) -> None:
        """`user:` in the page right makes that pager's pages grant; `responder` does not make a
        stranger's pages grant."""
        grants = machine.page_grants_rights
        assert grants(Rights(page=("user:U0FRANK01",)), fresh(), "U0FRANK01")
        assert not grants(Rights(page=("responder",)), fresh(), "U0FRANK01")


class TestTransitionRecords:
    """What each transition writes (found by `make mutate`, docs/MUTATION.md)."""

    def test_mitigate_and_resolve_bump_the_fencing_token_by_one(self) -> None:
        """Each stop of escalation invalidates the steps scheduled under the old token."""
        mitigated = machine.mitigate(fresh(), "U0BOB0001", T0 + timedelta(minutes=5))
        assert mitigated.token == 4
        assert mitigated.escalation.status is EscalationStatus.STOPPED
        assert mitigated.acknowledged_at == T0 + timedelta(minutes=5)
        resolved = machine.resolve(mitigated, "U0CAROL01", T0 + timedelta(minutes=9))
        assert resolved.token == 5
        assert resolved.resolved_by == "U0CAROL01"
        assert resolved.mitigated_at == T0 + timedelta(minutes=5)  # kept from the mitigation

    def test_resolving_an_unmitigated_incident_dates_its_mitigation_now(self) -> None:
        """Resolved straight from triggered, the incident was mitigated when it was resolved."""
        resolved = machine.resolve(fresh(), "U0CAROL01", T0 + timedelta(minutes=9))
        assert resolved.mitigated_at == T0 + timedelta(minutes=9)

    def test_reopen_forgets_the_resolution_and_the_mitigation(self) -> None:
        """A reopened incident has no resolver, no resolution time and no mitigation time."""
        done = machine.resolve(fresh(), "U0CAROL01", T0 + timedelta(minutes=9))
        reopened = machine.reopen(done)
        assert (reopened.resolved_at, reopened.resolved_by, reopened.mitigated_at) == (
            None,
            None,
            None,
        )

    def test_an_action_without_a_target_status_keeps_the_status(self) -> None:
        """Notes, pages and updates leave the incident in the status it has."""
        acked = machine.acknowledge(fresh(), "U0BOB0001", T0)
        for action in (Action.NOTE, Action.PAGE, Action.UPDATE):
            assert machine.check_transition(acked, action) is Status.ACKNOWLEDGED

    def test_refusals_say_exactly_why(self) -> None:
        """The refusal's reason, status and wording: spaces for the verb's underscores."""
        with pytest.raises(TransitionRefused) as refused:
            machine.check_transition(fresh(), Action.COMPLETE_REVIEW)
        assert refused.value.reason == "cannot complete review an incident that is triggered"
        assert refused.value.status is Status.TRIGGERED
        done = machine.resolve(fresh(), "U0CAROL01", T0)
        with pytest.raises(TransitionRefused) as refused:
            machine.check_transition(done, Action.ACKNOWLEDGE)
        assert refused.value.reason == "the incident is resolved; reopen it first"


class TestStoredRecord:
    """An incident survives the store's JSON unchanged (found by `make mutate`)."""

    def test_every_field_set_round_trips(self) -> None:
        """A record with no field at its default reads back equal, through JSON."""
        policy = Policy(
            name="payments",
            services=("checkout", "billing"),
            steps=(Step((Target.parse("user:U0ALICE01"), Target.parse("schedule:pay")), 120),),
            repeat=2,
            fallback_channel="C0FALLBACK",
            severities=("sev1", "sev2"),
        )
        full = fresh(
            status=Status.MITIGATED,
            private=True,
            drill=True,
            exclude_from_metrics=True,
            roles=Roles(commander="U0LEAD1", comms="U0COMMS1", scribe="U0SCRIBE1"),
            policy=policy,
            escalation=EscalationState(EscalationStatus.EXHAUSTED, 1, 2, 1.5e9, run=3),
            acknowledged_by="U0BOB0001",
            acknowledged_at=T0 + timedelta(minutes=1),
            mitigated_at=T0 + timedelta(minutes=2),
            resolved_at=T0 + timedelta(minutes=3),
            resolved_by="U0CAROL01",
            channel_id="C0INC0001",
            paged=("U0ALICE01", "U0DAVE001"),
            paged_without_rights=("U0DAVE001",),
            description="card payments fail",
            header_ts="1700000000.000100",
            update_token=7,
            update_due_at=1.7e9,
            updates=4,
        )
        assert Incident.from_dict(json.loads(json.dumps(full.to_dict()))) == full

    def test_a_record_without_the_optional_fields_reads_as_defaults(self) -> None:
        """Keys added after the first release may be absent: each reads as its default."""
        data = fresh().to_dict()
        required = {"id", "title", "service", "severity", "declared_by", "declared_at"}
        required |= {"status", "escalation", "token"}
        minimal = {key: value for key, value in data.items() if key in required}
        minimal["escalation"] = {"status": "stopped", "step": 0, "loop": 0}
        assert Incident.from_dict(minimal) == fresh(escalation=EscalationState.idle(), paged=())

    def test_a_drill_is_left_out_of_metrics(self) -> None:
        """A drill's record says so even when the flag was not set, and reads back that way."""
        record = fresh(drill=True).to_dict()
        assert record["exclude_from_metrics"] is True
        del record["exclude_from_metrics"]
        assert Incident.from_dict(record).exclude_from_metrics
