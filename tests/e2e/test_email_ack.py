"""An email page's acknowledge link against the running stack: `tocsin web` behind gunicorn,
a real worker, the Slack emulator. GET shows a confirm page and changes nothing; the POST
acknowledges as the person paged; the link then says it was used; a wrong link names nothing."""

from __future__ import annotations

import html
import time
import urllib.error
import urllib.request

import redis

from bot.domain.incident import Status
from bot.notify.links import ack_link
from bot.state.store import Store
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts, texts
from tests.e2e.test_private import TITLE, declare_private

ALICE, BOB = "U0ALICE01", "U0BOB0001"


def call(url: str, method: str = "GET") -> tuple[int, str]:
    body = b"" if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=body)  # noqa: S310 - the stack
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def store_of(stack: Stack) -> Store:
    return Store(redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True))


def page_key(store: Store, incident_id: str, user: str) -> str:
    """The outbox key of `user`'s page, once it was sent."""
    return str(
        wait_for(
            lambda: next(
                (i.key for i in store.outbox(incident_id) if i.to == user and i.sent_at), None
            )
        )
    )


def link(stack: Stack, incident_id: str, user: str, key: str, ttl: float = 600) -> str:
    secret = stack.env["TOCSIN_ACK_LINK_SECRET"]
    return ack_link(
        stack.env["TOCSIN_PUBLIC_URL"], secret, incident_id, user, key, time.time() + ttl
    )


def test_get_confirms_post_acknowledges_once_and_the_channel_says_who(stack: Stack) -> None:
    """GET shows the (escaped) title and a POST form and changes nothing; POST acknowledges as
    alice; a second POST, or a GET after, says the link was used; expired and forged links
    are refused and change nothing."""
    cid = declare(stack, "declare sev2 Checkout <b>errors</b> & timeouts")
    store = store_of(stack)
    incident_id = str(store.r.get(f"tocsin:chan:{cid}"))
    wait_for(lambda: dm_texts(stack, ALICE))
    url = link(stack, incident_id, ALICE, page_key(store, incident_id, ALICE))

    expired = link(stack, incident_id, ALICE, page_key(store, incident_id, ALICE), ttl=-1)
    assert call(expired, "POST")[0] == 410
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    status, body = call(forged, "POST")
    assert status == 403
    assert "Checkout" not in body

    for _ in range(2):  # a mail scanner opening the link twice acknowledges nothing
        status, body = call(url)
        assert status == 200
        assert html.escape("Checkout <b>errors</b> & timeouts") in body
        assert "<b>errors</b>" not in body
        assert '<form method="post"' in body
    assert store.get(incident_id).status is Status.TRIGGERED

    status, body = call(url, "POST")
    assert status == 200, body
    assert "Acknowledged" in body
    assert store.get(incident_id).status is Status.ACKNOWLEDGED
    wait_for(lambda: any(f"Acknowledged by <@{ALICE}>" in t for t in texts(stack, cid)))

    status, body = call(url, "POST")
    assert status == 410
    assert "already used" in body
    assert call(url)[0] == 410


def test_a_wrong_link_to_a_private_incident_shows_nothing_of_it(stack: Stack) -> None:
    """A token signed with another secret, or a genuine one naming a page the incident never
    sent (bob's, who was not paged), gets a refusal that names no incident; the incident's
    own link to alice shows its title to her."""
    incident_id, _ = declare_private(stack)
    store = store_of(stack)
    key = page_key(store, incident_id, ALICE)
    secret = stack.env["TOCSIN_ACK_LINK_SECRET"]
    base = stack.env["TOCSIN_PUBLIC_URL"]
    later = time.time() + 600
    wrong = [
        ack_link(base, "another-secret-" + "x" * 32, incident_id, ALICE, key, later),
        ack_link(base, secret, incident_id, BOB, key, later),  # a page bob never got
        ack_link(base, secret, incident_id, ALICE, "page:9:9:U0ALICE01", later),
    ]
    for url in wrong:
        for method in ("GET", "POST"):
            status, body = call(url, method)
            assert status == 403
            assert TITLE not in body
            assert incident_id not in body
    assert store.get(incident_id).status is Status.TRIGGERED
    status, body = call(link(stack, incident_id, ALICE, key))
    assert status == 200
    assert TITLE in body
