"""The pagerduty method over real HTTP against the sandbox's PagerDuty: trigger, acknowledge
and resolve move one PagerDuty incident per Tocsin incident; a resend is deduplicated; an
unknown key fails for good; a 5xx, a 429 or a dropped connection is worth a retry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.domain.services import OutsideServices, PagerDutyService
from bot.notify import Notice
from bot.notify.pagerduty import EVENTS_URL_ENV, PagerDutyEvents, dedup_key
from bot.paging import DeliveryError, Undeliverable
from bot.sandbox.pagerduty import PagerDutyEmulator
from tests.pd_emulator import KEY, OTHER_KEY, running_pagerduty

SERVICES = OutsideServices(
    pagerduty={
        "ops": PagerDutyService("ops", "TOCSIN_PD_OPS_KEY"),
        "stale": PagerDutyService("stale", "TOCSIN_PD_STALE_KEY"),
        "unset": PagerDutyService("unset", "TOCSIN_PD_UNSET_KEY"),
    }
)


def notice(incident_id: str = "2026-11-27-1", key: str = "page:1") -> Notice:
    return Notice(
        incident_id=incident_id,
        key=key,
        title="Checkout errors",
        severity="sev1",
        service="checkout",
        summary="SEV1 Checkout errors: acknowledge in Slack",
    )


@pytest.fixture
def pd() -> Iterator[tuple[PagerDutyEmulator, PagerDutyEvents]]:
    with running_pagerduty() as (emulator, url):
        env = {EVENTS_URL_ENV: url, "TOCSIN_PD_OPS_KEY": KEY, "TOCSIN_PD_STALE_KEY": OTHER_KEY}
        yield emulator, PagerDutyEvents.from_env(SERVICES, env)


class TestPagerDutyMethod:
    def test_trigger_acknowledge_resolve_move_one_incident(
        self, pd: tuple[PagerDutyEmulator, PagerDutyEvents]
    ) -> None:
        """One PagerDuty incident per Tocsin incident, keyed by its dedup key, follows ack and resolve."""
        emulator, method = pd
        ref = method.send(notice(), "ops")
        assert ref == dedup_key("2026-11-27-1")
        [incident] = emulator.by_key(ref)
        assert (incident.status, incident.severity) == ("triggered", "critical")
        assert incident.title == "[SEV1] Checkout errors"
        method.acknowledge("ops", "2026-11-27-1")
        assert incident.status == "acknowledged"
        method.resolve("ops", "2026-11-27-1")
        assert incident.status == "resolved"
        assert incident.events == ["trigger", "acknowledge", "resolve"]

    def test_a_resend_is_deduplicated_and_find_leaves_it_to_the_dedup_key(
        self, pd: tuple[PagerDutyEmulator, PagerDutyEvents]
    ) -> None:
        """A retry (or a later step's page) of an open incident opens no second PagerDuty incident."""
        emulator, method = pd
        assert method.find(notice(), "ops", 0.0) is None
        method.send(notice(key="page:1"), "ops")
        method.send(notice(key="page:1"), "ops")
        method.send(notice(key="page:2"), "ops")
        [incident] = emulator.by_key(dedup_key("2026-11-27-1"))
        assert incident.deduplicated == 2
        assert incident.status == "triggered"

    def test_a_key_pagerduty_does_not_know_is_undeliverable(
        self, pd: tuple[PagerDutyEmulator, PagerDutyEvents]
    ) -> None:
        """PagerDuty's 400 (an invalid routing key) is a permanent failure, with its reason."""
        emulator, method = pd
        with pytest.raises(Undeliverable) as refused:
            method.send(notice(), "stale")
        assert refused.value.code == "invalid_event"
        assert "Invalid routing key" in refused.value.reason
        assert emulator.incidents == {}

    def test_an_unset_routing_key_names_its_variable(
        self, pd: tuple[PagerDutyEmulator, PagerDutyEvents]
    ) -> None:
        """A service whose variable is not set fails for good, naming the variable; nothing is sent."""
        emulator, method = pd
        with pytest.raises(Undeliverable) as refused:
            method.send(notice(), "unset")
        assert "TOCSIN_PD_UNSET_KEY is not set" in refused.value.reason
        with pytest.raises(Undeliverable, match="no PagerDuty service 'nope'"):
            method.send(notice(), "nope")
        assert emulator.received == []

    @pytest.mark.parametrize("kind", ["500", "503", "reset"])
    def test_a_server_error_or_lost_connection_is_retried_later(
        self, pd: tuple[PagerDutyEmulator, PagerDutyEvents], kind: str
    ) -> None:
        """5xx and no answer are DeliveryError, wide (every PagerDuty send would fail now)."""
        emulator, method = pd
        emulator.faults.add(kind, method="enqueue", nth=1)
        with pytest.raises(DeliveryError) as later:
            method.send(notice(), "ops")
        assert later.value.wide
        assert emulator.incidents == {}
        method.send(notice(), "ops")  # the retry goes through
        assert len(emulator.by_key(dedup_key("2026-11-27-1"))) == 1

    def test_a_429_is_retried_after_the_time_pagerduty_asks(
        self, pd: tuple[PagerDutyEmulator, PagerDutyEvents]
    ) -> None:
        """429 is DeliveryError with Retry-After, not wide (it is this integration's limit)."""
        emulator, method = pd
        emulator.faults.add("429", method="enqueue", nth=1, retry_after=7)
        with pytest.raises(DeliveryError) as later:
            method.send(notice(), "ops")
        assert later.value.retry_after == 7.0
        assert not later.value.wide
