"""Catalog: tier lookup and the routing of (service, severity) to a policy."""

from __future__ import annotations

import pytest

from bot.domain.catalog import Catalog
from bot.domain.policy import Policy, Step, Target, TargetKind
from bot.domain.severity import Tier

_STEP = Step((Target(TargetKind.USER, "U0LEAD1"),), 300)


def _policy(name: str, services: tuple[str, ...], severities: tuple[str, ...] = ()) -> Policy:
    return Policy(name=name, services=services, steps=(_STEP,), severities=severities)


def _catalog(*policies: Policy) -> Catalog:
    tiers = (Tier("sev1", "Full outage", 900), Tier("sev2", "Degraded", 1800))
    return Catalog(policies={p.name: p for p in policies}, tiers=tiers)


class TestPolicyFor:
    def test_explicit_severity_beats_every_severity(self) -> None:
        """A policy naming the service and the severity wins over one serving every severity."""
        general = _policy("general", ("checkout",))
        urgent = _policy("urgent", ("checkout",), ("sev1",))
        catalog = _catalog(general, urgent)
        assert catalog.policy_for("checkout", "sev1") == urgent
        assert catalog.policy_for("checkout", "sev2") == general

    def test_service_policy_beats_default(self) -> None:
        """A policy naming the service beats the `*` default policy."""
        default = _policy("default", ("*",))
        payments = _policy("payments", ("payments-api",))
        catalog = _catalog(default, payments)
        assert catalog.policy_for("payments-api", "sev2") == payments

    def test_default_used_when_severity_not_served(self) -> None:
        """A service whose policy does not serve the severity falls back to the `*` policy."""
        default = _policy("default", ("*",))
        payments = _policy("payments", ("payments-api",), ("sev1",))
        catalog = _catalog(default, payments)
        assert catalog.policy_for("payments-api", "sev2") == default

    def test_default_with_explicit_severity_preferred(self) -> None:
        """Among default policies, one naming the severity beats one serving every severity."""
        default = _policy("default", ("*",))
        night = _policy("night", ("*",), ("sev1",))
        catalog = _catalog(default, night)
        assert catalog.policy_for("unknown-svc", "sev1") == night
        assert catalog.policy_for("unknown-svc", "sev2") == default

    def test_none_without_match_or_default(self) -> None:
        """With no policy for the service and no default, there is no route."""
        catalog = _catalog(_policy("payments", ("payments-api",), ("sev1",)))
        assert catalog.policy_for("payments-api", "sev2") is None
        assert catalog.policy_for("search", "sev1") is None

    def test_ties_go_to_first_name(self) -> None:
        """Two equally good policies (rejected by the loader) resolve to the first by name."""
        catalog = _catalog(_policy("b", ("web",)), _policy("a", ("web",)))
        result = catalog.policy_for("web", "sev1")
        assert result is not None
        assert result.name == "a"


class TestTier:
    def test_tier_by_name(self) -> None:
        """tier() returns the tier with that name."""
        assert _catalog().tier("sev2").label == "Degraded"

    def test_unknown_tier_names_known(self) -> None:
        """An unknown tier raises KeyError listing the known ones."""
        with pytest.raises(KeyError, match="sev1, sev2"):
            _catalog().tier("sev9")

    def test_tier_names_in_order(self) -> None:
        """tier_names lists tiers most severe first."""
        assert _catalog().tier_names == ("sev1", "sev2")


class TestImmutability:
    def test_mappings_are_read_only(self) -> None:
        """The catalog's mappings cannot be changed after construction."""
        source = {"a": _policy("a", ("web",))}
        catalog = Catalog(policies=source)
        source["b"] = _policy("b", ("api",))
        assert list(catalog.policies) == ["a"]
        with pytest.raises(TypeError):
            catalog.policies["c"] = _policy("c", ("x",))  # type: ignore[index]
