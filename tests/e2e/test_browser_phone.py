"""The sandbox page's phones: an SMS page shows on alice's phone, and her reply there
acknowledges the incident, in headless chromium against the real bot."""

from __future__ import annotations

import pytest

from bot.notify import Notice
from bot.notify.twilio import TwilioSms
from bot.runtime import Runtime
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_browser_declare import page
from tests.e2e.test_declare_flow import declare, dm_texts
from tests.e2e.test_twilio_acks import ALICE, ALICE_PHONE, PagesSent, phones

__all__ = ["page", "phones"]  # the fixtures this module uses from the others
pytestmark = pytest.mark.browser


def test_a_reply_typed_on_the_pages_phone_acknowledges(
    page: object, stack: Stack, phones: tuple[Runtime, PagesSent, str]
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    rt, sent, _ = phones
    declare(stack)
    [incident_id] = rt.store.open_ids()
    wait_for(lambda: dm_texts(stack, ALICE))
    sms = TwilioSms.from_env(stack.env)
    assert sms is not None
    page_key = f"page:{incident_id}:sms"
    sms.send(
        Notice(incident_id, page_key, "Checkout errors", "sev2", "checkout", "", ALICE), ALICE_PHONE
    )
    sent.pages[("sms", ALICE_PHONE)] = (incident_id, ALICE)

    phone = page.get_by_test_id("phone").filter(has_text=ALICE_PHONE)
    expect(phone.get_by_test_id("phone-sms").first).to_contain_text("Checkout errors")
    phone.get_by_test_id("phone-reply-input").fill("ACK")
    phone.get_by_test_id("phone-reply-input").press("Enter")
    expect(phone).to_contain_text(f"you acknowledged incident {incident_id}")
    assert rt.store.get(incident_id).acknowledged_by == ALICE
