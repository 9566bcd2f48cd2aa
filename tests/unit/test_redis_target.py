"""Where Redis is: the clients `open_redis` builds carry the password and TLS the settings name
(nothing connects here: a client connects on its first command)."""

from __future__ import annotations

import redis
from redis.sentinel import SentinelConnectionPool, SentinelManagedSSLConnection

from bot.state.target import RedisTarget, open_redis


def test_a_url_without_password_takes_redis_password_and_redis_tls() -> None:
    client = open_redis(RedisTarget(url="redis://cache:6380/2", password="s3cret", tls=True))
    pool = client.connection_pool
    assert pool.connection_class is redis.SSLConnection
    assert pool.connection_kwargs["password"] == "s3cret"
    assert pool.connection_kwargs["db"] == 2


def test_the_password_in_the_url_wins() -> None:
    client = open_redis(RedisTarget(url="redis://:inurl@cache:6379/0", password="env"))
    assert client.connection_pool.connection_kwargs["password"] == "inurl"


def test_sentinels_lend_the_url_its_password_db_and_tls() -> None:
    target = RedisTarget(
        url="rediss://:primarypw@ignored:6379/3",
        sentinels=(("s1", 26379), ("s2", 26379)),
        master="payments",
        sentinel_password="sentinelpw",
    )
    client = open_redis(target, decode_responses=False)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "payments"
    assert pool.connection_class is SentinelManagedSSLConnection
    assert pool.connection_kwargs["password"] == "primarypw"
    assert pool.connection_kwargs["db"] == 3
    assert pool.connection_kwargs["decode_responses"] is False
    sentinels = pool.sentinel_manager.sentinels
    assert [s.connection_pool.connection_kwargs["password"] for s in sentinels] == [
        "sentinelpw"
    ] * 2
    assert "primarypw" not in repr(target)
    assert "sentinelpw" not in repr(target)
