"""Acknowledge links of email pages: what a token names, and the tokens that name nothing."""

from __future__ import annotations

import pytest

from bot.config.settings import Settings, SettingsError
from bot.notify import Notice
from bot.notify.links import (
    PATH,
    AckLink,
    LinkProblem,
    LinkRefused,
    ack_link,
    ack_token,
    read_token,
    with_ack_link,
)

SECRET = "k" * 32
NOW = 1_800_000_000.0


def refused(secret: str, token: str, now: float = NOW) -> LinkProblem:
    with pytest.raises(LinkRefused) as caught:
        read_token(secret, token, now)
    return caught.value.problem


def test_a_link_names_its_incident_person_page_and_expiry() -> None:
    url = ack_link(
        "https://tocsin.example.com/",
        SECRET,
        "20260101-1",
        "U0ALICE01",
        "page:0:0:U0ALICE01",
        NOW + 600,
    )
    assert url.startswith("https://tocsin.example.com" + PATH)
    token = url.rsplit("/", 1)[1]
    assert read_token(SECRET, token, NOW) == AckLink(
        "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", int(NOW + 600)
    )


def test_a_forged_or_altered_token_is_refused() -> None:
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", NOW + 600)
    assert refused("x" * 32, token) is LinkProblem.FORGED  # signed with another secret
    payload, _, signature = token.rpartition(".")
    other = ack_token(SECRET, "20260101-1", "U0MALLORY", "page:0:0:U0ALICE01", NOW + 600)
    assert refused(SECRET, other.rpartition(".")[0] + "." + signature) is LinkProblem.FORGED
    assert refused(SECRET, payload + "." + signature[:-2] + "AA") is LinkProblem.FORGED
    assert refused(SECRET, "not-a-token") is LinkProblem.FORGED
    assert refused(SECRET, "") is LinkProblem.FORGED


def test_another_incidents_key_cannot_be_spliced_into_a_token() -> None:
    """The signature covers incident and key together: one incident's page key moved into a
    token of another incident does not check."""
    mine = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", NOW + 600)
    theirs = ack_token(SECRET, "20260101-2", "U0ALICE01", "page:1:0:U0ALICE01", NOW + 600)
    spliced = theirs.rpartition(".")[0] + "." + mine.rpartition(".")[2]
    assert refused(SECRET, spliced) is LinkProblem.FORGED


def test_an_expired_token_is_refused_at_its_expiry() -> None:
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", NOW + 600)
    assert read_token(SECRET, token, NOW + 599).incident_id == "20260101-1"
    assert refused(SECRET, token, NOW + 600) is LinkProblem.EXPIRED


def test_the_secret_must_be_long_and_is_never_shown() -> None:
    with pytest.raises(SettingsError, match="TOCSIN_ACK_LINK_SECRET is too short"):
        Settings.from_env({"TOCSIN_ACK_LINK_SECRET": "short"})
    settings = Settings.from_env({"TOCSIN_ACK_LINK_SECRET": SECRET})
    assert settings.ack_link_secret == SECRET
    assert SECRET not in repr(settings)


def test_a_notice_to_a_person_gets_a_link_to_its_own_page() -> None:
    notice = Notice(
        "20260101-1", "page:0:0:U0ALICE01:email", "t", "sev1", "checkout", "s", "U0ALICE01"
    )
    linked = with_ack_link(notice, "https://tocsin.example.com", SECRET, NOW, ttl_s=60)
    assert linked.ack_url is not None
    token = linked.ack_url.rsplit("/", 1)[1]
    assert read_token(SECRET, token, NOW) == AckLink(
        "20260101-1", "U0ALICE01", notice.key, int(NOW + 60)
    )
    service = Notice("20260101-1", "page:0:0:pagerduty:ops", "t", "sev1", "checkout", "s")
    assert with_ack_link(service, "https://tocsin.example.com", SECRET, NOW) == service
    assert with_ack_link(notice, None, SECRET, NOW) == notice  # links not set up
