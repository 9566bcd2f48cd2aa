"""The web side of alerts in, against real Redis: a repeat writes nothing, a change queues one
entry and one drain job, and Redis away is a 503 the sender retries."""

from __future__ import annotations

import json

import pytest
import redis
from rq import Queue

from bot.alerts import intake as intake_module
from bot.alerts.intake import Intake, kick_waiting
from bot.domain.alerts.sources import AlertSource, SourceKind
from bot.domain.catalog import Catalog
from bot.state.alerts import AlertStore, inbox_key
from bot.state.server import connect

SOURCE = AlertSource(name="prom", kind=SourceKind.ALERTMANAGER, token_env="TOK")
AUTH = {"HTTP_AUTHORIZATION": "Bearer t"}


def _intake(url: str) -> tuple[Intake, Queue]:
    queue = Queue("alerts-test", connection=redis.Redis.from_url(url))
    catalog = Catalog(alert_sources={"prom": SOURCE})
    return Intake(lambda: catalog, AlertStore(connect(url)), queue, {"TOK": "t"}), queue


def _body(status: str = "firing", fp: str = "a1") -> bytes:
    alert = {"status": status, "fingerprint": fp, "labels": {"alertname": "X"}}
    return json.dumps({"groupKey": "{}:{}", "status": status, "alerts": [alert]}).encode()


def test_a_repeat_writes_nothing_and_a_change_queues_one_entry(
    r: redis.Redis, redis_url: str
) -> None:
    intake, queue = _intake(redis_url)
    assert intake.handle("prom", "POST", AUTH, _body()) == (202, {"ok": True, "queued": True})
    assert intake.handle("prom", "POST", AUTH, _body()) == (202, {"ok": True, "queued": False})
    assert r.llen(inbox_key("prom")) == 1
    assert queue.count == 1  # one drain owed; the repeat owed none
    assert intake.handle("prom", "POST", AUTH, _body("resolved"))[0] == 202
    assert r.llen(inbox_key("prom")) == 2
    assert (
        queue.count == 1
    )  # a drain is already queued and not started: no second one (nor while a drain works through the inbox)


def test_redis_away_is_a_503() -> None:
    intake, _queue = _intake("redis://127.0.0.1:1/0")  # nothing listens on port 1
    status, body = intake.handle("prom", "POST", AUTH, _body())
    assert status == 503
    assert "retry" in body["error"]


def test_a_full_inbox_is_a_503_and_the_reconciler_kicks_a_stranded_one(
    r: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_module, "INBOX_MAX", 1)
    intake, queue = _intake(redis_url)
    assert intake.handle("prom", "POST", AUTH, _body(fp="a"))[0] == 202
    status, body = intake.handle("prom", "POST", AUTH, _body(fp="b"))
    assert status == 503
    assert "waiting" in body["error"]
    queue.empty()  # the drain job is lost (say its enqueue failed), its entry is not
    AlertStore(r).caught_up("prom")
    assert kick_waiting(AlertStore(r), queue) == ["prom"]
    assert queue.count == 1
    assert kick_waiting(AlertStore(r), queue) == []  # one drain queued is enough
