"""Who a PagerDuty webhook acts as, and what Tocsin reads of its body."""

from __future__ import annotations

import json

import pytest

from bot.inbound.pagerduty import parse, service_actor


class TestWhoActs:
    def test_the_pagerduty_service_paged_for_the_incident_acts_as_a_responder(self) -> None:
        """When pagerduty:ops was paged, it is who acts (anyone paged is a responder)."""
        paged = ("U0ALICE01", "pagerduty:ops", "pagerduty:db")
        assert service_actor(paged, "Dana Example") == "pagerduty:ops"

    def test_else_the_pagerduty_user_by_name_acts(self) -> None:
        assert service_actor(("U0ALICE01",), "  Dana\n Example ") == "pagerduty:Dana Example"


class TestParse:
    def test_reads_type_key_number_and_agent(self) -> None:
        body = {
            "event": {
                "event_type": "incident.resolved",
                "agent": {"id": "PU1", "summary": "Dana", "type": "user_reference"},
                "data": {"incident_key": "tocsin/2026-11-27-1", "number": 7},
            }
        }
        event = parse(json.dumps(body).encode())
        assert (event.event_type, event.incident_key, event.pd_number) == (
            "incident.resolved",
            "tocsin/2026-11-27-1",
            7,
        )
        assert (event.agent_id, event.agent_name) == ("PU1", "Dana")

    @pytest.mark.parametrize("body", [b"[]", b'{"event": {}}', b'{"messages": []}'])
    def test_not_a_v3_webhook_is_refused(self, body: bytes) -> None:
        with pytest.raises(ValueError, match="not a v3 webhook"):
            parse(body)
