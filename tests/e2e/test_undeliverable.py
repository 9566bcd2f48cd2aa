"""A delivery that can never succeed fails alone: the incident's other items and steps go on.

The workspace has a deactivated account (gone) and the policy names a user id that does
not exist (nobody): Slack answers `user_disabled` and `user_not_found` to their DMs.
"""

from __future__ import annotations

import pytest

from bot.sandbox.workspace import UserSpec, WorkspaceSpec, load_workspace
from bot.state.server import connect
from bot.state.store import Store
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_channel_commands import thread_of_header
from tests.e2e.test_declare_flow import declare, dm_texts, texts

GONE = "U0GONE001"
NOBODY = "U0NOBODY99"
POLICIES = {
    # step 1 pages a user id Slack does not know beside bob; a long wait, so only a stall
    # of the outbox (not the next step) could hold up what follows
    "checkout.yaml": f"""\
name: checkout
services: [checkout]
steps:
  - notify: [user:{NOBODY}, user:U0BOB0001]
    wait: 5m
repeat: 0
fallback_channel: C0INCIDENTS
""",
    # step 1 reaches nobody (a deactivated account): carol, step 2, is paged at once
    "default.yaml": f"""\
name: default
services: ["*"]
steps:
  - notify: [user:{GONE}]
    wait: 5m
  - notify: [user:U0CAROL01]
    wait: 5m
repeat: 0
fallback_channel: C0INCIDENTS
""",
}


@pytest.fixture
def stack_workspace() -> WorkspaceSpec:
    spec = load_workspace()
    gone = UserSpec(id=GONE, name="gone", real_name="Gone Away", deleted=True)
    return spec.model_copy(update={"users": (*spec.users, gone)})


@pytest.fixture
def stack_policies() -> dict[str, str]:
    return POLICIES


class TestUndeliverablePages:
    def test_an_unknown_user_fails_alone_and_the_rest_of_the_incident_is_delivered(
        self, stack: Stack, redis_url: str
    ) -> None:
        """nobody's page fails for good: bob is paged, the channel is told why, and a later update reaches its thread and the stakeholders."""
        cid = declare(stack, "declare sev2 Checkout errors")
        wait_for(lambda: dm_texts(stack, "U0BOB0001"))
        notice = wait_for(lambda: [t for t in texts(stack, cid) if "Could not page" in t])
        assert f"<@{NOBODY}>: there is no such Slack user" in notice[0]
        result = stack.driver().slash("U0ERIN001", "update rolled back deploy 4812", channel_id=cid)
        assert result.status == 200
        wait_for(lambda: [t for t in texts(stack, "C0STATUS") if "update 1" in t])
        wait_for(lambda: any("rolled back" in t for t in thread_of_header(stack, cid)))
        store = Store(connect(redis_url))
        incident = store.incident_in_channel(cid)
        assert incident is not None
        outbox = {item.key: item for item in store.outbox(incident.id)}
        assert outbox[f"page:0:0:{NOBODY}"].status == "failed"
        assert outbox[f"page:0:0:{NOBODY}"].last_error == "user_not_found"
        assert all(item.status == "sent" for key, item in outbox.items() if NOBODY not in key), {
            k: (i.status, i.last_error) for k, i in outbox.items()
        }

    def test_a_step_whose_every_page_fails_for_good_is_skipped_at_once(
        self, stack: Stack, redis_url: str
    ) -> None:
        """gone's account is deactivated: step 1 reaches nobody, so carol (step 2) is paged without waiting its 5 minutes."""
        cid = declare(stack, "declare sev3 Search is slow")
        wait_for(lambda: dm_texts(stack, "U0CAROL01"), timeout=20)
        notice = wait_for(lambda: [t for t in texts(stack, cid) if "Could not page" in t])
        assert f"<@{GONE}>: their Slack account is deactivated" in notice[0]
        incident = Store(connect(redis_url)).incident_in_channel(cid)
        assert incident is not None
        notes = [e.text for e in Store(connect(redis_url)).timeline(incident.id)]
        assert "step 1: nobody could be reached, skipped" in notes
        assert incident.escalation.step == 1


class TestPageTargetsAreChecked:
    def test_paging_an_unknown_deactivated_or_missing_group_is_refused_and_writes_nothing(
        self, stack: Stack, redis_url: str
    ) -> None:
        """`/incident page` names what is wrong with each bad target, and neither the outbox nor who was paged changes."""
        cid = declare(stack, "declare sev2 Checkout errors")
        store = Store(connect(redis_url))
        incident = store.incident_in_channel(cid)
        assert incident is not None
        wait_for(lambda: dm_texts(stack, "U0BOB0001"))
        # step 1's unknown user is told in the channel (an outbox item) after bob's page
        wait_for(lambda: [t for t in texts(stack, cid) if "Could not page" in t])
        before = ({i.key for i in store.outbox(incident.id)}, store.get(incident.id).paged)
        cases = {
            "page <@U0NOSUCH01> please look": "I cannot page <@U0NOSUCH01>: there is no such Slack user",
            f"page <@{GONE}|gone>": f"I cannot page <@{GONE}>: their Slack account is deactivated",
            "page <@U0TOCSIN1|tocsin>": "I cannot page <@U0TOCSIN1>: it is a bot",
            "page <!subteam^S0NOSUCH|@ghosts>": "usergroup <!subteam^S0NOSUCH> does not exist or has no members",
        }
        for text, expected in cases.items():
            reply = stack.driver().slash("U0ERIN001", text, channel_id=cid)
            assert reply.status == 200
            assert expected in reply.text, reply.text
        after = ({i.key for i in store.outbox(incident.id)}, store.get(incident.id).paged)
        assert after == before
        ok = stack.driver().slash("U0ERIN001", "page <@U0CAROL01|carol> db?", channel_id=cid)
        assert ok.text == "", ok.text  # the channel says it
        wait_for(lambda: dm_texts(stack, "U0CAROL01"))
