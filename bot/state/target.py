"""Where Redis is: one URL, or a primary that Sentinel names (and names again after a failover)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

from bot.redaction import redact_text


@dataclass(frozen=True)
class RedisTarget:
    """REDIS_URL, or REDIS_SENTINELS with REDIS_SENTINEL_MASTER.

    With sentinels, REDIS_URL is optional and lends its password, database number and scheme
    (`rediss://` means TLS) to the primary's connections.
    """

    url: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = "mymaster"
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)
    tls: bool = False

    def __repr__(self) -> str:
        """Where, with the URL's password masked and the other secrets left out."""
        return f"RedisTarget({redact_text(self.where)!r}, tls={self.tls})"

    @property
    def where(self) -> str:
        """For error messages: the URL (mask it with redact_text) or the sentinels and master."""
        if self.sentinels:
            hosts = ",".join(f"{host}:{port}" for host, port in self.sentinels)
            return f"primary {self.master!r} of sentinels {hosts}"
        return self.url or ""


def open_redis(
    target: RedisTarget,
    *,
    decode_responses: bool = True,
    socket_timeout: float = 10,
    socket_connect_timeout: float = 5,
) -> redis.Redis:
    """A client on `target`. Through Sentinel it asks the sentinels for the primary whenever it
    (re)connects, so after a failover the next command reaches the promoted replica."""
    options: dict[str, object] = {
        "decode_responses": decode_responses,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_connect_timeout,
        "health_check_interval": 30,
    }
    if not target.sentinels:
        if not target.url:
            raise ValueError("no Redis: set REDIS_URL or REDIS_SENTINELS")
        url = target.url
        if target.tls and url.startswith("redis://"):
            url = "rediss://" + url.removeprefix("redis://")
        if target.password and not urlsplit(url).password:
            options["password"] = target.password
        return redis.Redis.from_url(url, **options)
    parts = urlsplit(target.url or "")
    tls = target.tls or parts.scheme == "rediss"
    password = target.password or (unquote(parts.password) if parts.password else None)
    db = int(parts.path.lstrip("/") or 0)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels),
        sentinel_kwargs={
            "password": target.sentinel_password,
            "ssl": tls,
            "socket_timeout": socket_connect_timeout,
            "socket_connect_timeout": socket_connect_timeout,
        },
        password=password,
        ssl=tls,
        db=db,
        **options,
    )
    primary: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        target.master, redis_class=redis.Redis
    )
    return primary
