"""Helpers of the alerts-in tests: a real Alertmanager (Debian's prometheus-alertmanager),
posting to `tocsin web`, and reading what the incidents and their threads became."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.domain.incident import Incident
from bot.sandbox.stack import free_port, wait_for
from bot.state.server import connect
from bot.state.store import Store
from tests.e2e.support import Stack

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
TOKEN = "alerts-e2e-token"


def need_alertmanager() -> str:
    if not Path(ALERTMANAGER).exists():
        pytest.skip("no Alertmanager: apt-get install prometheus-alertmanager")
    return ALERTMANAGER


def post(
    url: str, body: bytes | dict[str, Any] | list[Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def incidents(stack: Stack) -> list[Incident]:
    """Every incident, open or resolved, in the order declared."""
    store = Store(connect(stack.env["REDIS_URL"]))
    ids = {k.removeprefix("tocsin:inc:") for k in store.r.scan_iter("tocsin:inc:*")}
    found = [store.find(i) for i in ids if ":" not in i]
    return sorted((i for i in found if i is not None), key=lambda i: i.declared_at)


def thread(stack: Stack, incident: Incident) -> list[str]:
    """The texts of the replies in the thread of the incident's pinned header."""
    if not incident.channel_id:
        return []
    return [
        reply["text"]
        for message in stack.emulator.transcript(incident.channel_id)
        if message["pinned"]
        for reply in message.get("replies", [])
    ]


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Alertmanager:
    """A real Alertmanager whose one receiver is `tocsin web`'s /alerts/<source>."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, directory: Path, webhook: str, repeat: str = "1h") -> Alertmanager:
        binary = need_alertmanager()
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "alertmanager.yml"
        config.write_text(
            "route:\n  receiver: tocsin\n  group_by: [alertname]\n  group_wait: 1s\n"
            f"  group_interval: 1s\n  repeat_interval: {repeat}\n"
            "receivers:\n  - name: tocsin\n    webhook_configs:\n"
            f"      - url: {webhook}\n        send_resolved: true\n"
            "        http_config:\n          authorization:\n            type: Bearer\n"
            f"            credentials: {TOKEN}\n"
        )
        port = free_port()
        log = directory / "alertmanager.log"
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        running = cls(proc, f"http://127.0.0.1:{port}", log)
        wait_for(running.ready, timeout=20, every=0.1)
        return running

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"alertmanager exited:\n{self.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:  # noqa: S310
                return r.status == 200
        except OSError:
            return False

    def fire(
        self,
        labels: dict[str, str],
        annotations: dict[str, str] | None = None,
        *,
        resolve: bool = False,
    ) -> None:
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": annotations or {},
            "generatorURL": "http://prometheus.example/graph?g0.expr=up",
        }
        if resolve:
            alert["endsAt"] = now_iso()
        status, _ = post(self.url + "/api/v2/alerts", [alert], {"Content-Type": "application/json"})
        assert status == 200

    def webhooks_sent(self) -> float:
        """Notifications the webhook integration delivered (from Alertmanager's /metrics)."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as r:  # noqa: S310
            for line in r.read().decode().splitlines():
                if line.startswith('alertmanager_notifications_total{integration="webhook"}'):
                    return float(line.split()[-1])
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
