"""What people read says things in words, not the config's or the code's internal names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import incident as machine
from bot.domain.incident import Action, TransitionRefused
from bot.domain.timeline import Entry, Kind
from bot.render import messages
from tests.unit.test_incident import T0, fresh


class TestWords:
    def test_rights_refusals_name_the_action_and_the_rule_in_words(self) -> None:
        """Not `correct_milestone` and `role:commander`, but what they mean."""
        rule = "sev2 rights.resolve allows only role:commander, usergroup:S0MGR, user:U0BOB0001"
        said = messages.not_allowed(Action.CORRECT_MILESTONE, rule)
        assert said == (
            "You may not correct a milestone of this incident: on sev2 incidents only the "
            "commander, <!subteam^S0MGR> or <@U0BOB0001> may (rights.resolve of sev2 in "
            "severities.yaml)."
        )
        assert "complete this incident's review" in messages.not_allowed(
            Action.COMPLETE_REVIEW, "sev2 rights.resolve allows only responder"
        )

    def test_actors_that_are_not_people_are_named_in_words(self) -> None:
        """A person is a mention; an alert source and the drill scheduler are named."""
        assert messages.who("U0ERIN001") == "<@U0ERIN001>"
        assert messages.who("alerts:prometheus") == "alerts from prometheus"
        assert messages.who("alerts:drill schedule") == "the drill schedule"
        assert messages.who("alerts:<b>") == "alerts from &lt;b&gt;"

    def test_a_page_says_how_it_reached_its_reader(self) -> None:
        """Targets in words: a person directly, a schedule, a group, a page by hand."""
        text = messages.page_text(fresh(), 0, 0, "user:U0CAROL01")
        assert "(step 1, via <@U0CAROL01> directly)" in text
        assert "via the payments on-call schedule" in messages.page_text(
            fresh(), 1, 2, "schedule:payments"
        )
        assert "step 2, round 3" in messages.page_text(fresh(), 1, 2, "schedule:payments")
        assert messages.page_how("page:manual:ab12:U0X", 0, 0, "page by U0FRANK01") == (
            "a page by <@U0FRANK01>"
        )
        assert messages.via_words("usergroup:S0MGR") == "the <!subteam^S0MGR> group"

    def test_the_catch_all_service_is_any_service(self) -> None:
        """A declaration on no known service reads `any service`, not `service *`."""
        assert "(any service)" in messages.declared(fresh(service="*"))
        assert "(service checkout)" in messages.declared(fresh())

    def test_acknowledging_a_resolved_incident_says_who_resolved_it(self) -> None:
        """Not `already acknowledged by` whoever acknowledged it before it was resolved."""
        acked = machine.acknowledge(fresh(), "U0ALICE01", T0)
        resolved = machine.resolve(acked, "U0BOB0001", T0 + timedelta(minutes=5))
        with pytest.raises(TransitionRefused) as refused:
            machine.acknowledge(resolved, "U0CAROL01", T0 + timedelta(minutes=6))
        told = messages.refusal(refused.value)
        assert told == "the incident is already resolved, by <@U0BOB0001> at 10:05:00 UTC"

    def test_a_refused_transition_names_the_action_in_words(self) -> None:
        """Not `cannot complete review an incident that is triggered`."""
        with pytest.raises(TransitionRefused) as refused:
            machine.check_transition(fresh(), Action.COMPLETE_REVIEW)
        told = messages.refusal(refused.value)
        assert told == "cannot complete this incident's review: it is triggered"

    def test_the_timeline_says_what_happened_in_words(self) -> None:
        """`severity changed`, not the entry kind's name `severity_changed`."""
        entry = Entry(T0, Kind.SEVERITY_CHANGED, "U0ERIN001", "severity set to sev1")
        assert "Z` severity changed <@U0ERIN001>: severity set to sev1" in messages.timeline(
            fresh(), [entry]
        )
