"""Acknowledge links are spent once, in Redis: the second POST is told "already used"."""

from __future__ import annotations

import time

import redis

from bot.notify.links import AckLinks, LinkProblem, LinkRefused, ack_token, used_key
from bot.state.markers import Markers

SECRET = "k" * 32


def problem(call: object) -> LinkProblem | None:
    try:
        call()  # type: ignore[operator]
    except LinkRefused as refused:
        return refused.problem
    return None


def test_a_link_is_spent_once_and_remembered_until_it_expires(r: redis.Redis) -> None:
    links = AckLinks(Markers(r), SECRET)
    now = time.time()  # the marks expire in Redis's time
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", now + 600)
    assert links.check(token, now).user == "U0ALICE01"
    assert links.check(token, now).user == "U0ALICE01"  # looking spends nothing
    assert links.spend(token, now).key == "page:0:0:U0ALICE01"
    assert problem(lambda: links.spend(token, now + 1)) is LinkProblem.USED
    assert problem(lambda: links.check(token, now + 1)) is LinkProblem.USED
    assert 590 <= r.ttl(used_key(token)) <= 600  # remembered as long as the link works
    assert token not in str(r.keys("*"))  # the mark is a digest: the key holds no credential


def test_a_link_given_back_may_be_spent_again(r: redis.Redis) -> None:
    links = AckLinks(Markers(r), SECRET)
    now = time.time()  # the marks expire in Redis's time
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", now + 600)
    links.spend(token, now)
    links.unspend(token)
    assert links.spend(token, now).incident_id == "20260101-1"


def test_without_a_secret_every_link_is_refused(r: redis.Redis) -> None:
    now = time.time()
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", now + 600)
    assert problem(lambda: AckLinks(Markers(r), None).check(token, now)) is LinkProblem.FORGED
    assert problem(lambda: AckLinks(Markers(r), None).spend(token, now)) is LinkProblem.FORGED
    assert not r.exists(used_key(token))
