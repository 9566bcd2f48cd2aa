"""An acknowledge link acts under the same decision rights as the button: where only the
commander may acknowledge, the person paged is refused by the link too, and nothing changes."""

from __future__ import annotations

import pytest

from bot.domain.incident import Status
from tests.e2e.support import SEVERITIES, Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts
from tests.e2e.test_email_ack import ALICE, call, link, page_key, store_of


@pytest.fixture
def stack_policies() -> dict[str, str]:
    """sev2 may be acknowledged by its commander only."""
    rights = "      acknowledge: [responder]\n      resolve: [role:commander, usergroup:S0ENGMGRS]"
    assert rights in SEVERITIES
    only_ic = (
        "      acknowledge: [role:commander]\n      resolve: [role:commander, usergroup:S0ENGMGRS]"
    )
    return {"severities.yaml": SEVERITIES.replace(rights, only_ic)}


def test_a_link_is_refused_where_its_person_may_not_acknowledge(stack: Stack) -> None:
    cid = declare(stack, "declare sev2 Checkout errors")  # erin declares: erin commands
    store = store_of(stack)
    incident_id = str(store.r.get(f"tocsin:chan:{cid}"))
    wait_for(lambda: dm_texts(stack, ALICE))
    url = link(stack, incident_id, ALICE, page_key(store, incident_id, ALICE))
    status, body = call(url, "POST")
    assert status == 409, body
    assert "Nothing changed" in body
    assert "You may not acknowledge" in body  # the refusal a click would get
    assert store.get(incident_id).status is Status.TRIGGERED
