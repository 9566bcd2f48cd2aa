"""Commands in an incident channel and the modals behind them, end to end."""

from __future__ import annotations

from typing import Any

from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts, texts
from tests.reliability.slack_helpers import click


def open_view(stack: Stack, user: str, callback_id: str) -> dict[str, Any]:
    entries = wait_for(
        lambda: [v for v in stack.emulator.views(user) if v["callback_id"] == callback_id]
    )
    return {**entries[-1]["view"], "id": entries[-1]["id"]}


def thread_of_header(stack: Stack, channel: str) -> list[str]:
    header = stack.emulator.transcript(channel)[0]
    return [reply["text"] for reply in header.get("replies", [])]


class TestStatusUpdates:
    def test_update_modal_posts_in_the_header_thread_and_mirrors_to_stakeholders(
        self, stack: Stack
    ) -> None:
        """The template lands in the header's thread, the stakeholder channel hears, the header shows the next due time."""
        cid = declare(stack)
        result = stack.driver().slash("U0ERIN001", "update", channel_id=cid)
        assert result.status == 200
        view = open_view(stack, "U0ERIN001", "status_update")
        values = {
            "status": "identified",
            "symptoms": "5xx at 12% on checkout <!here>",
            "actions": "rolled back deploy 4812",
            "next_steps": "watch error rate",
            "next_in": "1800",
        }
        submitted = stack.driver().submit_view("U0ERIN001", view, values)
        assert submitted.status == 200
        reply = wait_for(lambda: thread_of_header(stack, cid))[0]
        assert "*Update 1* · identified" in reply
        assert "*Symptoms observed:* 5xx at 12% on checkout &lt;!here&gt;" in reply
        assert "*Actions taken:* rolled back deploy 4812" in reply
        assert "*Next update:*" in reply
        mirror = wait_for(lambda: [t for t in texts(stack, "C0STATUS") if "update 1" in t])
        assert "identified" in mirror[0]

    def test_incomplete_update_is_refused_field_by_field(self, stack: Stack) -> None:
        """Missing template fields come back as modal errors, and nothing is posted."""
        cid = declare(stack)
        stack.driver().slash("U0ERIN001", "update", channel_id=cid)
        view = open_view(stack, "U0ERIN001", "status_update")
        result = stack.driver().submit_view(
            "U0ERIN001", view, {"status": "identified", "symptoms": " ", "next_in": "1800"}
        )
        assert result.json is not None
        assert result.json["response_action"] == "errors"
        assert set(result.json["errors"]) >= {"symptoms", "actions", "next_steps"}
        # The complete update sent next is the thread's first reply, numbered 1.
        complete = {"symptoms": "complete at last", "actions": "a", "next_steps": "n"}
        stack.driver().submit_view(
            "U0ERIN001", view, {"status": "identified", "next_in": "1800", **complete}
        )
        wait_for(lambda: [t for t in thread_of_header(stack, cid) if "complete at last" in t])
        replies = thread_of_header(stack, cid)
        assert len(replies) == 1, replies
        assert "*Update 1* · identified" in replies[0]

    def test_overdue_update_reminds_the_commander_then_the_comms_lead(self, stack: Stack) -> None:
        """sev1 wants an update every 3 s: the commander is reminded, then half a cadence later the comms lead."""
        cid = declare(stack, "declare sev1 Checkout down")
        result = stack.driver().slash("U0ERIN001", "role comms <@U0GRACE01|grace>", channel_id=cid)
        assert result.text == ""
        wait_for(lambda: any("<@U0GRACE01> is now comms" in t for t in texts(stack, cid)))
        first = wait_for(
            lambda: [t for t in thread_of_header(stack, cid) if "was due" in t], timeout=10
        )
        assert first[0].startswith(":alarm_clock: <@U0ERIN001>")
        second = wait_for(
            lambda: [t for t in thread_of_header(stack, cid) if "still missing" in t], timeout=10
        )
        assert second[0].startswith(":alarm_clock: <@U0GRACE01>")


class TestLifecycle:
    def test_mitigate_then_resolve_from_the_header_button(self, stack: Stack) -> None:
        """Mitigate is announced, and that announcement is its only answer; Resolve opens a
        modal whose summary closes the incident."""
        cid = declare(stack)
        wait_for(lambda: dm_texts(stack, "U0ALICE01"))
        assert stack.driver().slash("U0ALICE01", "mitigate", channel_id=cid).text == ""
        wait_for(lambda: any("Mitigated by <@U0ALICE01>" in t for t in texts(stack, cid)))
        assert stack.emulator.ephemerals("U0ALICE01") == []
        header = stack.emulator.transcript(cid)[0]
        stack.driver().click("U0ERIN001", header, "incident_resolve", channel_id=cid)
        view = open_view(stack, "U0ERIN001", "resolve_incident")
        stack.driver().submit_view("U0ERIN001", view, {"summary": "rolled back; error rate normal"})
        wait_for(lambda: any("Resolved by <@U0ERIN001>" in t for t in texts(stack, cid)))
        wait_for(lambda: "resolved" in stack.emulator.channel(cid)["topic"])
        status = stack.driver().slash("U0ERIN001", "status", channel_id=cid)
        assert "resolved" in status.text

    def test_resolve_is_refused_for_someone_without_the_right(self, stack: Stack) -> None:
        """sev2 resolve belongs to the commander and eng managers: bob is refused."""
        cid = declare(stack)
        result = stack.driver().slash("U0BOB0001", "resolve fixed", channel_id=cid)
        assert "You may not resolve this incident" in result.text
        assert "only the commander or <!subteam^S0ENGMGRS> may" in result.text
        assert "rights.resolve of sev2" in result.text

    def test_rights_are_checked_before_a_modal_opens(self, stack: Stack) -> None:
        """bob may not resolve a sev2 and frank, never paged, may not post updates: each is
        refused when he clicks or types, and no views.open reaches Slack; erin's form opens."""
        cid = declare(stack)
        header = stack.emulator.transcript(cid)[0]
        driver = stack.driver()
        click(stack, "U0BOB0001", header, "incident_resolve")
        click(stack, "U0FRANK01", header, "incident_update")
        typed = driver.slash("U0FRANK01", "update", channel_id=cid)
        assert "You may not post status updates on this incident" in typed.text
        told = wait_for(
            lambda: len(stack.emulator.ephemerals()) >= 2 and stack.emulator.ephemerals()
        )
        said = {e["user"]: e["text"] for e in told}
        assert "You may not resolve this incident" in said["U0BOB0001"]
        assert "You may not post status updates" in said["U0FRANK01"]
        assert stack.emulator.calls("views.open") == []
        click(stack, "U0ERIN001", header, "incident_resolve")
        assert open_view(stack, "U0ERIN001", "resolve_incident")

    def test_severity_raise_is_recorded_and_timeline_lists_every_action(self, stack: Stack) -> None:
        """A note, a severity change and the timeline command, in order with actors. The
        note, which the channel is not told of, is answered; the change is said only in the
        channel."""
        cid = declare(stack)
        driver = stack.driver()
        assert (
            "note by"
            in driver.slash("U0ERIN001", "note suspect the 12:01 deploy", channel_id=cid).text
        )
        changed = driver.slash("U0ERIN001", "sev sev1 EU checkout down", channel_id=cid)
        assert changed.text == ""
        wait_for(lambda: any("Severity set to sev1" in t for t in texts(stack, cid)))
        timeline = driver.slash("U0ERIN001", "timeline", channel_id=cid).text
        order = [timeline.index(k) for k in ("declared", "note", "severity changed")]
        assert order == sorted(order)
        assert "suspect the 12:01 deploy" in timeline

    def test_page_command_dms_the_named_people_with_buttons(self, stack: Stack) -> None:
        """`/incident page @frank @eng-managers help` DMs each person once, with Acknowledge."""
        cid = declare(stack)
        result = stack.driver().slash(
            "U0ERIN001",
            "page <@U0FRANK01|frank> <!subteam^S0ENGMGRS|@eng-managers> need DB help",
            channel_id=cid,
        )
        assert result.text == ""  # the channel says who was paged
        wait_for(
            lambda: any(
                "paged <@U0FRANK01>, <@U0GRACE01>, <@U0LEAD1>" in t for t in texts(stack, cid)
            )
        )
        for user in ("U0FRANK01", "U0GRACE01", "U0LEAD1"):
            page = wait_for(lambda u=user: stack.emulator.dms(u).get(u))[0]
            assert "need DB help" in page["text"]
            assert "incident_ack" in str(page["blocks"])

    def test_anywhere_commands_list_oncall_help(self, stack: Stack) -> None:
        """list shows the open incident; oncall shows the schedule; help lists subcommands."""
        declare(stack)
        driver = stack.driver()
        assert "Checkout errors" in driver.slash("U0ALICE01", "list").text
        oncall = driver.slash("U0ALICE01", "oncall checkout-primary")
        assert "U0ALICE01" in oncall.text
        assert "escalate" in driver.slash("U0ALICE01", "help").text
        unknown = driver.slash("U0ALICE01", "oncall nosuch")
        assert "nosuch" in unknown.text
        assert "checkout-primary" in unknown.text


class TestMoreCommands:
    def test_runbook_handoff_and_reopen(self, stack: Stack) -> None:
        """runbook posts the matching runbook; handoff moves command; reopen restarts paging."""
        cid = declare(stack)
        driver = stack.driver()
        before = len(stack.emulator.transcript(cid))
        assert "Posting the runbook" in driver.slash("U0ERIN001", "runbook", channel_id=cid).text
        wait_for(lambda: len(stack.emulator.transcript(cid)) > before)
        assert "Triage" in str(stack.emulator.transcript(cid)[-1]["blocks"])
        handed = driver.slash("U0ERIN001", "handoff <@U0GRACE01|grace>", channel_id=cid)
        assert handed.text == ""
        wait_for(lambda: "IC <@U0GRACE01>" in stack.emulator.channel(cid)["topic"])
        assert any("<@U0GRACE01> is now commander" in t for t in texts(stack, cid))
        assert driver.slash("U0GRACE01", "resolve done", channel_id=cid).text == ""
        wait_for(lambda: any("Resolved by <@U0GRACE01>" in t for t in texts(stack, cid)))
        alice_pages = len(dm_texts(stack, "U0ALICE01"))
        assert driver.slash("U0GRACE01", "reopen", channel_id=cid).text == ""
        wait_for(lambda: len(dm_texts(stack, "U0ALICE01")) > alice_pages, timeout=10)


class TestPrivateIncident:
    def test_private_incident_gets_a_private_channel_and_a_detail_free_announcement(
        self, stack: Stack
    ) -> None:
        """Declared private in the modal: private channel; the stakeholder channel learns no title or service."""
        driver = stack.driver()
        driver.slash("U0ERIN001", "")
        view = open_view(stack, "U0ERIN001", "declare_incident")
        result = driver.submit_view(
            "U0ERIN001",
            view,
            {
                "title": "Customer data exposed via export bug",
                "service": "checkout",
                "users_affected": "lt5",
                "severity": "sev2",
                "private": ["private"],
                "description": "export endpoint returned other tenants' rows",
            },
        )
        assert result.status == 200
        channel = wait_for(
            lambda: [c for c in stack.emulator.channels() if c["name"].startswith("inc-")]
        )[0]
        assert channel["is_private"] is True
        status = wait_for(lambda: texts(stack, "C0STATUS"))
        assert "private incident" in status[-1].lower()
        for text in status:
            assert "export" not in text.lower()
            assert "checkout" not in text.lower()
        # Declared from #incidents (the form's default channel), it is not announced there.
        assert [t for t in texts(stack, "C0INCIDENTS") if "declared" in t] == []


class TestUpdatesDoNotResolve:
    def test_resolved_is_not_an_update_status_and_is_refused_if_sent(self, stack: Stack) -> None:
        """The modal offers no Resolved; a stale modal sending it is refused at the status
        field, pointing to /incident resolve, and nothing is posted while the incident stays open."""
        cid = declare(stack)
        stack.driver().slash("U0ERIN001", "update", channel_id=cid)
        view = open_view(stack, "U0ERIN001", "status_update")
        (status_block,) = [b for b in view["blocks"] if b.get("block_id") == "status"]
        offered = [o["value"] for o in status_block["element"]["options"]]
        assert offered == ["investigating", "identified", "monitoring"]
        values = {"symptoms": "all good", "actions": "a", "next_steps": "n", "next_in": "1800"}
        resolved = {"text": {"type": "plain_text", "text": "Resolved"}, "value": "resolved"}
        status_block["element"]["options"].append(resolved)  # as a modal opened before offered
        result = stack.driver().submit_view("U0ERIN001", view, {"status": "resolved", **values})
        assert result.json is not None
        assert result.json["response_action"] == "errors"
        assert "/incident resolve" in result.json["errors"]["status"]
        stack.driver().submit_view("U0ERIN001", view, {"status": "monitoring", **values})
        replies = wait_for(lambda: thread_of_header(stack, cid))
        assert len(replies) == 1, replies
        assert "*Update 1* · monitoring" in replies[0]
        status = stack.driver().slash("U0ERIN001", "status", channel_id=cid).text
        assert "resolved" not in status.lower()
