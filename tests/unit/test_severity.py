"""Severity tiers: objective criteria decide the tier, most severe first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.severity import (
    Criteria,
    Impact,
    Rights,
    Tier,
    cadence,
    classify,
    meets,
    walkarounds,
)

SEV1 = Tier(
    name="sev1",
    label="Full outage",
    update_every_s=900,
    criteria=Criteria(users_affected_pct=50.0, data_loss=True, legal_or_regulatory=True),
)
SEV2 = Tier(
    name="sev2",
    label="Significant degradation",
    update_every_s=1800,
    criteria=Criteria(users_affected_pct=10.0, revenue_impact=True, latency_ms=2000),
)
SEV3 = Tier(name="sev3", label="Minor alert", update_every_s=3600)
TIERS = (SEV1, SEV2, SEV3)


class TestMeets:
    def test_users_affected_threshold_is_inclusive(self) -> None:
        """A share of affected users equal to the threshold meets it; just below does not."""
        criteria = Criteria(users_affected_pct=10.0)
        assert meets(criteria, Impact(users_affected_pct=10.0))
        assert not meets(criteria, Impact(users_affected_pct=9.99))

    def test_latency_threshold_is_inclusive(self) -> None:
        """Latency at or above the threshold meets it; below does not."""
        criteria = Criteria(latency_ms=2000)
        assert meets(criteria, Impact(latency_ms=2000))
        assert not meets(criteria, Impact(latency_ms=1999))

    @pytest.mark.parametrize("flag", ["revenue_impact", "legal_or_regulatory", "data_loss"])
    def test_yes_no_criterion_needs_both_criterion_and_answer(self, flag: str) -> None:
        """A yes/no criterion is met only when the criterion is True and the answer is yes."""
        assert meets(Criteria(**{flag: True}), Impact(**{flag: True}))
        assert not meets(Criteria(**{flag: True}), Impact())
        assert not meets(Criteria(**{flag: False}), Impact(**{flag: True}))
        assert not meets(Criteria(), Impact(**{flag: True}))

    def test_any_one_criterion_is_enough(self) -> None:
        """One met criterion selects the tier even when every other criterion is missed."""
        criteria = Criteria(users_affected_pct=50.0, latency_ms=5000, data_loss=True)
        assert meets(criteria, Impact(users_affected_pct=1.0, latency_ms=10, data_loss=True))

    def test_no_criteria_is_met_by_nothing(self) -> None:
        """A tier without criteria is never met, however bad the impact."""
        worst = Impact(
            users_affected_pct=100.0,
            revenue_impact=True,
            legal_or_regulatory=True,
            data_loss=True,
            latency_ms=10**9,
        )
        assert not meets(Criteria(), worst)


class TestClassify:
    @pytest.mark.parametrize(
        ("impact", "expected"),
        [
            (Impact(users_affected_pct=60.0), "sev1"),
            (Impact(data_loss=True), "sev1"),
            (Impact(legal_or_regulatory=True), "sev1"),
            (Impact(users_affected_pct=20.0), "sev2"),
            (Impact(revenue_impact=True), "sev2"),
            (Impact(latency_ms=2500), "sev2"),
            (Impact(users_affected_pct=5.0, latency_ms=100), "sev3"),
        ],
    )
    def test_each_criterion_selects_its_tier(self, impact: Impact, expected: str) -> None:
        """Each criterion routes the impact to the tier that declares it."""
        assert classify(TIERS, impact).name == expected

    def test_most_severe_met_tier_wins(self) -> None:
        """When several tiers are met the first listed (most severe) is chosen."""
        impact = Impact(users_affected_pct=75.0, revenue_impact=True, latency_ms=9000)
        assert classify(TIERS, impact) is SEV1
        assert classify((SEV2, SEV1, SEV3), impact) is SEV2

    def test_fallback_is_the_last_tier_even_with_criteria(self) -> None:
        """With no tier met, the least severe (last) tier is returned, criteria or not."""
        assert classify((SEV1, SEV2), Impact()) is SEV2

    def test_empty_tiers_is_an_error(self) -> None:
        """Classifying against no tiers raises ValueError rather than guessing."""
        with pytest.raises(ValueError, match="tier"):
            classify((), Impact(data_loss=True))


class TestCadence:
    def test_cadence_is_the_update_interval(self) -> None:
        """A tier's cadence is its update interval as a timedelta."""
        assert cadence(SEV1) == timedelta(minutes=15)


class TestWalkarounds:
    def test_open_resolve_gets_round_rights_held_by_role_or_responder(self) -> None:
        """resolve: [anyone] lets anyone take a role; warned when another right needs one."""
        tier = replace(SEV2, rights=Rights(resolve=("anyone",), change_severity=("responder",)))
        (found,) = walkarounds((tier,))
        assert (found.tier, found.right) == ("sev2", "resolve")
        assert "rights.change_severity (responder)" in found.message
        assert "rights.contain (responder)" in found.message  # containment actions too
        by_group = replace(
            SEV2,
            rights=Rights(
                resolve=("anyone",), change_severity=("user:U0X",), contain=("user:U0X",)
            ),
        )
        assert walkarounds((by_group,)) == []

    def test_open_change_severity_on_two_tiers_gets_round_the_stricter_one(self) -> None:
        """change_severity open on sev2 and sev3 lets anyone move a sev2 to sev3 and resolve
        there; one open tier alone cannot move anything."""
        strict = Rights(resolve=("role:commander",), change_severity=("anyone",))
        loose = Rights(resolve=("anyone",), change_severity=("anyone",), contain=("anyone",))
        tiers = (replace(SEV2, rights=strict), replace(SEV3, rights=loose))
        (found,) = walkarounds(tiers)
        assert (found.tier, found.right) == ("sev2", "change_severity")
        assert "to sev3" in found.message
        assert "rights.resolve" in found.message
        guarded = (replace(SEV2, rights=strict), replace(SEV3, rights=Rights(resolve=("anyone",))))
        assert [w.tier for w in walkarounds(guarded)] == ["sev3"]  # its own open resolve

    def test_defaults_and_open_pages_warn_nothing(self) -> None:
        """Unset rights, and page left open beside responder-only rights, walk round nothing."""
        restricted = Rights(acknowledge=("responder",), change_severity=("responder",))
        assert walkarounds((replace(SEV2, rights=restricted), SEV3)) == []
