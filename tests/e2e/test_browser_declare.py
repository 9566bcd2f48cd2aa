"""A person declares an incident on the sandbox page against the real bot, in headless chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import Stack

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def page(stack: Stack) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed: apt-get install chromium (.ci/run does this)"
        )
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(15000)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(stack.emulator.root_url)
        expect(tab.locator("body")).to_have_attribute("data-ready", "true")
        yield tab
        browser.close()
        assert errors == [], errors


def test_declare_from_the_page_shows_channel_pinned_header_and_page_dm(
    page: object, stack: Stack
) -> None:
    """Erin types /incident, fills the modal; the incident channel with its pinned header, Alice's page DM and her Home's incident list appear."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.get_by_test_id("acting-user").select_option("U0ERIN001")
    box = page.get_by_test_id("composer-input")
    box.fill("/incident")
    box.press("Enter")
    modal = page.get_by_test_id("modal")
    expect(modal.get_by_test_id("modal-title")).to_have_text("Declare an incident")
    modal.get_by_test_id("input-title").fill("Checkout errors after deploy")
    modal.get_by_test_id("input-service").select_option("checkout")
    modal.get_by_test_id("input-users_affected").select_option("5to25")
    modal.get_by_test_id("modal-submit").click()
    expect(page.get_by_test_id("modal")).to_have_count(0)

    nav = page.locator("[data-testid^='nav-inc-']")
    expect(nav).to_have_count(1)
    nav.click()
    header = page.get_by_test_id("message").filter(has_text="Checkout errors after deploy").first
    expect(header.get_by_test_id("pinned-marker")).to_be_visible()
    expect(header).to_contain_text("SEV2")  # 5-25% of users meets sev2's criteria
    expect(header.get_by_test_id("button-incident_ack")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-incident-channel.png"))

    page.get_by_test_id("acting-user").select_option("U0ALICE01")
    page.get_by_test_id("nav-dm-U0ALICE01").click()
    dm = page.get_by_test_id("message").filter(has_text="You are paged")
    expect(dm).to_be_visible()
    expect(dm.get_by_test_id("button-incident_ack")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "demo-page-dm.png"))

    page.get_by_test_id("tab-home").click()  # the bot publishes her Home: the open incident
    expect(page.get_by_test_id("home")).to_contain_text("Checkout errors after deploy")
    page.screenshot(path=str(ARTIFACTS / "demo-app-home.png"))


def test_a_role_given_by_typed_mention_is_set(page: object, stack: Stack) -> None:
    """Erin types `/incident role comms @gra`, picks grace from the list; the bot hears `<@U…|grace>` and sets the role."""
    from playwright.sync_api import Page, expect

    from tests.e2e.test_declare_flow import declare

    assert isinstance(page, Page)
    cid = declare(stack)
    page.get_by_test_id("acting-user").select_option("U0ERIN001")
    page.locator(f"[data-channel='{cid}']").click()
    box = page.get_by_test_id("composer-input")
    box.press_sequentially("/incident role comms @gra")
    expect(page.get_by_test_id("mention-option").first).to_have_attribute("data-handle", "grace")
    box.press("Enter")  # picks the first completion, as in Slack
    expect(box).to_have_value("/incident role comms @grace ")
    box.press("Enter")
    # The channel is told (no private echo): the role change names grace.
    expect(page.get_by_test_id("messages").filter(has_text="is now comms")).to_contain_text(
        "@grace"
    )
    assert "could not tell who" not in page.get_by_test_id("messages").inner_text()
