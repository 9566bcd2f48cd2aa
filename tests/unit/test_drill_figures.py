"""Choosing what a drill runs, and its outcome per person, from the example config."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_catalog
from bot.domain.drills import PageRow, outcome, per_person
from bot.drills.service import drill_route, drill_service
from bot.incident.spec import UserError
from tests.unit.test_incident import fresh

CONFIG = Path(__file__).resolve().parents[2] / "escalation_policies"


class TestRoute:
    def test_defaults_are_the_catch_all_policy_at_the_least_severe_level(self) -> None:
        """No policy, no level: the policy for `*` at the last (least severe) level."""
        policy, level = drill_route(load_catalog(CONFIG), None, None)
        assert (policy.name, level) == ("platform", "sev3")
        assert drill_service(policy) == "api-gateway"

    def test_a_named_policy_is_drilled_even_at_a_level_it_does_not_route(self) -> None:
        """`payments` routes only sev1/sev2; a drill of it at sev3 still pages by it."""
        policy, level = drill_route(load_catalog(CONFIG), "payments", "sev3")
        assert (policy.name, level) == ("payments", "sev3")

    def test_an_unknown_policy_names_the_known_ones(self) -> None:
        with pytest.raises(UserError, match=r"`nosuch` is not an escalation policy \(known: "):
            drill_route(load_catalog(CONFIG), "nosuch", None)


class TestOutcome:
    def test_each_person_once_acked_only_by_the_acknowledger_and_unsent_never_reached(
        self,
    ) -> None:
        t0 = datetime(2026, 3, 10, 15, tzinfo=UTC)
        incident = replace(
            fresh(drill=True), acknowledged_by="U2", acknowledged_at=t0 + timedelta(seconds=90)
        )
        pages = [
            PageRow("U1", "schedule:p", t0.timestamp() + 5),
            PageRow("U2", "user:U2", t0.timestamp() + 30),
            PageRow("U1", "schedule:p", t0.timestamp() + 300),  # the next loop: kept once
            PageRow("U3", "user:U3", None),  # failed for good
        ]
        result = outcome(incident, pages)
        got = {p.user: (p.sent_at is not None, p.acked_after_s) for p in result.people}
        assert got == {"U1": (True, None), "U2": (True, 60.0), "U3": (False, None)}
        rows = per_person([result, result])
        assert rows[0].user == "U3"  # the never reached first
        assert (rows[0].paged, rows[0].reached) == (2, 0)
        assert [(r.user, r.median_ack_s) for r in rows[1:]] == [("U1", None), ("U2", 60.0)]
