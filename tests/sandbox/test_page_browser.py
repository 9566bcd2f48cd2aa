"""The sandbox page in a real headless chromium, driving a real Bolt app through the bridge.

Screenshots land in artifacts/ (git-ignored). Every request the page makes is checked to stay
on 127.0.0.1: the page must work with no network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.sandbox.app_server import AppServer
from bot.sandbox.emulator import Emulator
from tests.sandbox.test_mailbox import LINK
from tests.sandbox.test_mailbox import send as send_mail

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SECRET = "page-test-signing-secret"
ALICE, BOB, CAROL = "U0ALICE01", "U0BOB0001", "U0CAROL01"

pytestmark = pytest.mark.browser

DECLARE_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title"},
        },
        {
            "type": "input",
            "block_id": "symptoms",
            "optional": True,
            "label": {"type": "plain_text", "text": "Symptoms"},
            "element": {"type": "plain_text_input", "action_id": "symptoms", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "severity",
                "options": [
                    {"text": {"type": "plain_text", "text": f"SEV{n}"}, "value": f"sev{n}"}
                    for n in (1, 2, 3)
                ],
            },
        },
        {
            "type": "input",
            "block_id": "impact",
            "optional": True,
            "label": {"type": "plain_text", "text": "Impact"},
            "element": {
                "type": "checkboxes",
                "action_id": "impact",
                "options": [
                    {"text": {"type": "plain_text", "text": "Revenue"}, "value": "revenue"},
                    {"text": {"type": "plain_text", "text": "Data loss"}, "value": "data"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "commander",
            "label": {"type": "plain_text", "text": "Incident commander"},
            "element": {"type": "users_select", "action_id": "commander"},
        },
    ],
}


def _build_app(emulator: Emulator, heard: list[str]) -> App:
    """A small Bolt app; `heard` collects every /incident text it receives."""
    client = WebClient(token=emulator.bot_token, base_url=emulator.url, timeout=5)
    app = App(
        token=emulator.bot_token,
        signing_secret=SECRET,
        client=client,
        request_verification_enabled=True,
    )

    @app.command("/incident")
    def incident(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        heard.append(command["text"])
        if command["text"].startswith("declare"):
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=DECLARE_MODAL)
            return
        if command["text"] == "help":
            ack("Usage: /incident declare | /incident page")
            return
        ack()
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": "SEV2: Checkout errors"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*Reported* by <@{command['user_id']}>"},
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "incident_ack",
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "value": "inc-1",
                    }
                ],
            },
        ]
        client.chat_postMessage(channel=command["channel_id"], text="SEV2", blocks=blocks)

    @app.action("incident_ack")
    def acknowledge(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        text = f":white_check_mark: _Acknowledged_ by <@{body['user']['id']}>"
        client.chat_postMessage(channel=body["channel"]["id"], text=text)

    def publish_home(client: WebClient, user: str, line: str) -> None:
        button = {
            "type": "button",
            "action_id": "home_wave",
            "text": {"type": "plain_text", "text": "Wave"},
            "value": "wave",
        }
        view = {
            "type": "home",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": line}},
                {"type": "actions", "elements": [button]},
            ],
        }
        client.views_publish(user_id=user, view=view)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        publish_home(client, event["user"], f"Hello <@{event['user']}>, {event['tab']} tab")

    @app.action("home_wave")
    def home_wave(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        where = f"{body['container']['type']} {body['view']['type']}"
        publish_home(client, body["user"]["id"], f"<@{body['user']['id']}> waved from the {where}")

    @app.view("declare")
    def declare(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        title = values["title"]["title"]["value"] or ""
        if len(title) < 5:
            ack(response_action="errors", errors={"title": "Give the incident a longer title"})
            return
        ack()
        severity = values["severity"]["severity"]["selected_option"]["value"]
        commander = values["commander"]["commander"]["selected_user"]
        impact = [o["value"] for o in values["impact"]["impact"]["selected_options"]]
        client.chat_postMessage(
            channel="C0INCIDENTS",
            text=f"*Declared* {severity}: {title} (impact: {', '.join(impact)}), "
            f"commander <@{commander}>",
        )

    return app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, launched once for the module."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed: apt-get install chromium "
            "(the project's .ci/run does this)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def heard() -> list[str]:
    """The /incident texts the app received, in order."""
    return []


@pytest.fixture
def sandbox(heard: list[str]) -> Iterator[Emulator]:
    """An emulator whose bridge talks to the Bolt app above over HTTP."""
    with Emulator(signing_secret=SECRET) as emulator:
        with AppServer(SlackRequestHandler(_build_app(emulator, heard))) as server:
            emulator.app_url = server.url
            yield emulator
        assert emulator.server_errors == []


@pytest.fixture
def page(browser: Browser, sandbox: Emulator) -> Iterator[Page]:
    """A tab on the sandbox page; fails the test if it asks anything of another host."""
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport={"width": 1360, "height": 860})
    tab = context.new_page()
    tab.set_default_timeout(5000)
    tab.route("**/*", only_local)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(sandbox.root_url)
    expect(tab.locator("body")).to_have_attribute("data-ready", "true")
    yield tab
    context.close()
    assert outside == [], "the page fetched from outside the sandbox"
    assert errors == [], "the page raised JavaScript errors"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"sandbox-{name}.png"))


def _send(page: Page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


class TestPage:
    def test_slash_command_button_and_reply(self, page: Page, sandbox: Emulator) -> None:
        """Bob runs a command, clicks the app's button, and sees the app's reply rendered."""
        page.get_by_test_id("acting-user").select_option(BOB)
        expect(page.get_by_test_id("channel-title")).to_have_text("#incidents")
        _send(page, "/incident page")
        card = page.get_by_test_id("message").filter(has_text="SEV2: Checkout errors")
        expect(card.get_by_test_id("block-header")).to_have_text("SEV2: Checkout errors")
        expect(card).to_contain_text("Reported by @bob")
        expect(card.locator("strong")).to_have_text("Reported")
        card.get_by_test_id("button-incident_ack").click()
        reply = page.get_by_test_id("message").filter(has_text="Acknowledged")
        expect(reply).to_contain_text("✅ Acknowledged by @bob")
        expect(reply.locator("em")).to_have_text("Acknowledged")
        _shot(page, "click")
        assert "Acknowledged" in sandbox.transcript("incidents")[-1]["text"]

    def test_modal_errors_then_submit(self, page: Page, sandbox: Emulator) -> None:
        """Alice fills the app's modal; a per-block error shows, then the submission lands."""
        _send(page, "/incident declare")
        modal = page.get_by_test_id("modal")
        expect(modal.get_by_test_id("modal-title")).to_have_text("Declare an incident")
        modal.get_by_test_id("input-title").fill("DB")
        modal.get_by_test_id("input-symptoms").fill("5xx on checkout\nlatency up")
        modal.get_by_test_id("input-severity").select_option("sev2")
        modal.get_by_test_id("choice-impact-revenue").click()
        modal.get_by_test_id("input-commander").select_option(CAROL)
        modal.get_by_test_id("modal-submit").click()
        expect(modal.get_by_test_id("error-title")).to_have_text("Give the incident a longer title")
        expect(modal.get_by_test_id("input-severity")).to_have_value("sev2")  # input kept
        _shot(page, "modal-errors")
        modal.get_by_test_id("input-title").fill("Checkout errors")
        modal.get_by_test_id("modal-submit").click()
        expect(page.get_by_test_id("modal")).to_have_count(0)
        declared = page.get_by_test_id("message").filter(has_text="Declared")
        expect(declared).to_contain_text(
            "Declared sev2: Checkout errors (impact: revenue), commander @carol"
        )
        _shot(page, "declared")

    def test_message_text_is_never_html(self, page: Page, sandbox: Emulator) -> None:
        """`<script>` and `<b>` in a message render as literal text; nothing runs."""
        client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
        client.chat_postMessage(
            channel="C0INCIDENTS",
            text="<script>window.pwned = 1</script> <b>bold?</b> &lt;i&gt;x&lt;/i&gt; <#C0STATUS>",
        )
        sandbox.post_as_user(ALICE, "C0INCIDENTS", "a plain note from alice")
        message = page.get_by_test_id("message").filter(has_text="bold?")
        expect(message).to_contain_text(
            "<script>window.pwned = 1</script> <b>bold?</b> <i>x</i> #status"
        )
        assert message.locator("b, i, script").count() == 0
        assert page.evaluate("typeof window.pwned") == "undefined"
        expect(page.get_by_test_id("message").filter(has_text="plain note")).to_contain_text(
            "Alice Andersson"
        )
        _shot(page, "literal-text")

    def test_threads_pins_ephemerals_dms_and_markers(self, page: Page, sandbox: Emulator) -> None:
        """Fields, context, pins, threads, ephemerals, DMs, unread and new-channel markers."""
        client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
        header = client.chat_postMessage(
            channel="C0INCIDENTS",
            text="SEV1 header",
            blocks=[
                {"type": "header", "text": {"type": "plain_text", "text": ":rotating_light: SEV1"}},
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*Commander*\n<@{CAROL}>"},
                        {"type": "mrkdwn", "text": "*Status*\n`investigating`"},
                    ],
                },
                {"type": "divider"},
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": "Next update in 15 min · <!here>"}],
                },
            ],
        )
        client.pins_add(channel="C0INCIDENTS", timestamp=header["ts"])
        client.chat_postMessage(
            channel="C0INCIDENTS", thread_ts=header["ts"], text="*Update*: rolled back"
        )
        client.chat_postEphemeral(channel="C0INCIDENTS", user=ALICE, text="Only for alice")
        client.chat_postMessage(channel=ALICE, text="You are paged for SEV1")
        card = page.get_by_test_id("message").filter(has_text="SEV1")
        expect(card.get_by_test_id("pinned-marker")).to_be_visible()
        expect(card).to_contain_text("Commander\n@carol")
        expect(page.get_by_test_id("pins")).to_contain_text("SEV1 header")
        card.get_by_test_id("thread-toggle").click()
        expect(card.get_by_test_id("reply")).to_contain_text("Update: rolled back")
        card.get_by_test_id("reply-input").fill("on it")
        card.get_by_test_id("reply-input").press("Enter")
        expect(card.get_by_test_id("reply")).to_have_count(2)
        expect(page.get_by_test_id("ephemeral")).to_contain_text("Only visible to you")
        _send(page, "/incident help")
        expect(page.get_by_test_id("ephemeral").filter(has_text="Usage")).to_be_visible()
        client.chat_postMessage(channel="C0STATUS", text="Stakeholder update")
        status = page.get_by_test_id("nav-status")
        expect(status.get_by_test_id("unread-marker")).to_have_text("1")
        client.conversations_create(name="inc-20260301-1-checkout")
        expect(page.get_by_test_id("nav-inc-20260301-1-checkout")).to_contain_text("new")
        _shot(page, "overview")
        page.get_by_test_id(f"nav-dm-{ALICE}").click()
        expect(page.get_by_test_id("message")).to_contain_text("You are paged for SEV1")
        status.click()
        expect(status.get_by_test_id("unread-marker")).to_have_count(0)


RUNBOOK = (Path(__file__).resolve().parents[2] / "runbooks" / "checkout-errors.md").read_text()


class TestLayout:
    @pytest.mark.parametrize(("width", "height"), [(1366, 768), (420, 800)])
    def test_long_channel_scrolls_and_keeps_the_composer_on_screen(
        self, page: Page, sandbox: Emulator, width: int, height: int
    ) -> None:
        """With a runbook posted, the message pane scrolls on the wheel and the composer stays in view."""
        page.set_viewport_size({"width": width, "height": height})
        client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
        for n in range(3):
            client.chat_postMessage(channel="C0INCIDENTS", text=f"runbook part {n}\n{RUNBOOK}")
        expect(page.get_by_test_id("message")).to_have_count(3)
        pane = page.get_by_test_id("messages")
        size = pane.evaluate("p => [p.scrollHeight, p.clientHeight]")
        assert size[0] > size[1], "the message pane grew instead of scrolling"
        before = pane.evaluate("p => p.scrollTop")
        box = pane.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"], height) / 2)
        page.mouse.wheel(0, -400 if before > 0 else 400)
        page.wait_for_function(
            "([before]) => document.querySelector('[data-testid=messages]').scrollTop !== before",
            arg=[before],
        )
        composer = page.get_by_test_id("composer-input").bounding_box()
        assert composer is not None
        left, top = composer["x"], composer["y"]
        assert left >= 0, "the composer starts left of the window"
        assert top >= 0, "the composer starts above the window"
        assert left + composer["width"] <= width, "the composer runs off the right edge"
        assert top + composer["height"] <= height, "the composer is pushed below the window"
        _shot(page, f"long-channel-{width}")


class TestMentions:
    def test_picked_mention_reaches_the_app_escaped(
        self, page: Page, sandbox: Emulator, heard: list[str]
    ) -> None:
        """@er offers erin; Tab picks her; the command reaches the app as Slack escapes it."""
        box = page.get_by_test_id("composer-input")
        box.press_sequentially("/incident role comms @er")
        option = page.get_by_test_id("mention-option")
        expect(option.first).to_have_attribute("data-handle", "erin")
        _shot(page, "mention-completion")
        box.press("Tab")
        expect(box).to_have_value("/incident role comms @erin ")
        expect(page.get_by_test_id("mention-list")).to_be_hidden()
        box.press_sequentially("#status @eng-managers @nobody @carol")
        box.press("Enter")  # carol is a whole name: Enter sends rather than completes
        expect(page.get_by_test_id("message").filter(has_text="SEV2")).to_have_count(1)
        assert heard == [
            "role comms <@U0ERIN001|erin> <#C0STATUS|status> "
            "<!subteam^S0ENGMGRS|@eng-managers> @nobody <@U0CAROL01|carol>"
        ]


class TestAppHome:
    def test_sidebar_lists_only_my_dms(self, page: Page, sandbox: Emulator) -> None:
        """Alice sees her DM with the app and not bob's; as bob, the other way round."""
        client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
        client.chat_postMessage(channel=ALICE, text="for alice")
        client.chat_postMessage(channel=BOB, text="for bob")
        dms = page.get_by_test_id("dm-list").locator("li")
        expect(dms).to_have_count(1)
        expect(page.get_by_test_id(f"nav-dm-{ALICE}")).to_contain_text("Tocsin")
        page.get_by_test_id(f"nav-dm-{ALICE}").click()
        expect(page.get_by_test_id("message")).to_have_text(re.compile("for alice"))
        page.get_by_test_id("acting-user").select_option(BOB)
        expect(dms).to_have_count(1)
        expect(page.get_by_test_id(f"nav-dm-{BOB}")).to_have_class(re.compile("active"))
        expect(page.get_by_test_id("message")).to_have_text(re.compile("for bob"))

    def test_home_tab_shows_the_published_view_and_its_buttons_work(
        self, page: Page, sandbox: Emulator
    ) -> None:
        """Opening Home sends app_home_opened; the published view shows; its button reaches the app."""
        page.get_by_test_id(f"nav-dm-{ALICE}").click()
        page.get_by_test_id("tab-home").click()
        home = page.get_by_test_id("home")
        expect(home).to_contain_text("Hello @alice, home tab")
        expect(page.get_by_test_id("composer")).to_be_hidden()
        home.get_by_test_id("button-home_wave").click()
        expect(home).to_contain_text("@alice waved from the view home")
        _shot(page, "app-home")
        page.get_by_test_id("tab-messages").click()
        expect(page.get_by_test_id("composer")).to_be_visible()


# A :shortcode: in the product's text: not part of a longer word or key (`page:manual:{n}`).
SHORTCODE = re.compile(r"(?<![\w:{}])(:[a-z][a-z0-9_+-]*:)(?![\w{])")


def product_shortcodes() -> list[str]:
    """Every :shortcode: written in the product's sources (the sandbox aside)."""
    bot = Path(__file__).resolve().parents[2] / "bot"
    found = {
        code
        for path in bot.rglob("*.py")
        if "sandbox" not in path.parts
        for code in SHORTCODE.findall(path.read_text())
    }
    return sorted(found)


class TestEmoji:
    def test_every_shortcode_the_product_writes_renders_as_an_emoji(
        self, page: Page, sandbox: Emulator
    ) -> None:
        """Each :name: in bot/ (e.g. :no_entry:, :vertical_traffic_light:) shows as its emoji."""
        codes = product_shortcodes()
        assert ":no_entry:" in codes
        assert ":vertical_traffic_light:" in codes
        client = WebClient(token=sandbox.bot_token, base_url=sandbox.url)
        client.chat_postMessage(channel="C0INCIDENTS", text="emoji " + " ".join(codes))
        plain = {"type": "section", "text": {"type": "plain_text", "text": " ".join(codes)}}
        client.chat_postMessage(channel="C0INCIDENTS", text="plain", blocks=[plain])
        shown = page.get_by_test_id("message")
        expect(shown).to_have_count(2)
        for text in shown.all_inner_texts():
            assert SHORTCODE.findall(text) == [], text


class TestMailbox:
    def test_the_acting_persons_mailbox_shows_a_mail_with_its_link(
        self, page: Page, sandbox: Emulator
    ) -> None:
        """A mail sent over SMTP to bob shows in his mailbox, not alice's; opened, its text is
        text (markup in it is not HTML) and its acknowledge link is a link to a new tab."""
        text = f"You are paged <img src=x onerror=alert(1)>.\nAcknowledge: {LINK}\n"
        send_mail(sandbox, "bob@example.com", "[SEV2] Checkout errors", text)
        page.get_by_test_id("acting-user").select_option(ALICE)
        expect(page.get_by_test_id("mailbox")).to_contain_text("No mail")
        page.get_by_test_id("acting-user").select_option(BOB)
        subject = page.get_by_test_id("mail-subject")
        expect(subject).to_have_text("[SEV2] Checkout errors")
        subject.click()
        body = page.get_by_test_id("mail-text")
        expect(body).to_contain_text("You are paged <img src=x onerror=alert(1)>.")
        expect(body.locator("img")).to_have_count(0)
        link = body.get_by_test_id("mail-link")
        expect(link).to_have_attribute("href", LINK)
        expect(link).to_have_attribute("target", "_blank")
        _shot(page, "mailbox")
