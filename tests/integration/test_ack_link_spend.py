"""Acknowledge links are spent once, in Redis: the second POST is told "already used"."""

from __future__ import annotations

import time

import redis

from bot.notify.links import AckLinks, LinkProblem, LinkRefused, ack_token, used_key

SECRET = "k" * 32
NOW = time.time()  # the marks expire in real Redis time


def problem(call: object) -> LinkProblem | None:
    try:
        call()  # type: ignore[operator]
    except LinkRefused as refused:
        return refused.problem
    return None


def test_a_link_is_spent_once_and_remembered_until_it_expires(r: redis.Redis) -> None:
    links = AckLinks(r, SECRET)
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", NOW + 600)
    assert links.check(token, NOW).user == "U0ALICE01"
    assert links.check(token, NOW).user == "U0ALICE01"  # looking spends nothing
    assert links.spend(token, NOW).key == "page:0:0:U0ALICE01"
    assert problem(lambda: links.spend(token, NOW + 1)) is LinkProblem.USED
    assert problem(lambda: links.check(token, NOW + 1)) is LinkProblem.USED
    assert r.expiretime(used_key(token)) == int(NOW + 600)
    assert token not in str(r.keys("*"))  # the mark is a digest: the key holds no credential


def test_a_link_given_back_may_be_spent_again(r: redis.Redis) -> None:
    links = AckLinks(r, SECRET)
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", NOW + 600)
    links.spend(token, NOW)
    links.unspend(token)
    assert links.spend(token, NOW).incident_id == "20260101-1"


def test_without_a_secret_every_link_is_refused(r: redis.Redis) -> None:
    token = ack_token(SECRET, "20260101-1", "U0ALICE01", "page:0:0:U0ALICE01", NOW + 600)
    assert problem(lambda: AckLinks(r, None).check(token, NOW)) is LinkProblem.FORGED
    assert problem(lambda: AckLinks(r, None).spend(token, NOW)) is LinkProblem.FORGED
    assert not r.exists(used_key(token))
