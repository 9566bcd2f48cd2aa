"""Who may see a private incident's title and details."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.incident import Incident, Roles, acknowledge
from bot.domain.privacy import recorded_members, visible_to

T0 = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def incident(private: bool) -> Incident:
    return Incident(
        id="20260309-1",
        title="Initech acquisition leak",
        service="checkout",
        severity="sev2",
        declared_by="U0ERIN001",
        declared_at=T0,
        private=private,
        roles=Roles(commander="U0GRACE01", scribe="U0DAVE001"),
        paged=("U0ALICE01",),
    )


class TestVisibleTo:
    def test_everybody_sees_an_incident_that_is_not_private(self) -> None:
        """Privacy is opt-in: a public incident is visible to anyone."""
        assert visible_to(incident(private=False), "U0FRANK01")

    def test_the_record_names_the_members_of_a_private_incident(self) -> None:
        """Declarer, role holders, paged people and whoever acknowledged are members; frank is not."""
        inc = acknowledge(incident(private=True), "U0BOB0001", T0)
        assert recorded_members(inc) == {
            "U0ERIN001",
            "U0GRACE01",
            "U0DAVE001",
            "U0ALICE01",
            "U0BOB0001",
        }
        assert all(visible_to(inc, user) for user in recorded_members(inc))
        assert not visible_to(inc, "U0FRANK01")

    def test_the_channel_members_are_members_too(self) -> None:
        """Somebody invited to the channel by hand sees it; the channel's list decides."""
        inc = incident(private=True)
        assert visible_to(inc, "U0FRANK01", ["U0ERIN001", "U0FRANK01"])
        assert not visible_to(inc, "U0FRANK01", ["U0ERIN001"])
