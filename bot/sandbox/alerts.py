"""The sandbox page's "Fire an alert" button: it posts an Alertmanager-style webhook (version
4) to the app's `/alerts/<source>`, as a monitoring system would, with a bearer token.

The sandbox knows nothing of the app: whoever starts it (`tocsin demo`) says where the
endpoint is and which token to present. Each press alternates firing and resolved.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def webhook(status: str, number: int) -> dict[str, Any]:
    """One alert in its own group, the way Alertmanager's webhook carries it."""
    labels = {"alertname": "SandboxAlert", "team": "payments", "severity": "warning"}
    alert = {
        "status": status,
        "labels": {**labels, "press": str(number)},
        "annotations": {"summary": f"Sandbox alert #{number} from the page"},
        "startsAt": _now(),
        "endsAt": _now() if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://127.0.0.1:9090/graph",
        "fingerprint": f"sandbox{number:08d}",
    }
    return {
        "version": "4",
        "groupKey": f'{{}}:{{press="{number}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "sandbox",
        "alerts": [alert],
    }


@dataclass
class AlertButton:
    url: str  # the app's /alerts/<source>
    token: str
    number: int = 0
    firing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def press(self) -> dict[str, Any]:
        """Fire a new alert, or resolve the one fired last; the app's answer."""
        with self.lock:
            if not self.firing:
                self.number += 1
            status = "resolved" if self.firing else "firing"
            self.firing = not self.firing
            body = json.dumps(webhook(status, self.number)).encode()
        request = urllib.request.Request(  # noqa: S310 - the app the sandbox was given
            self.url,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        return {"ok": code == 202, "status": status, "http": code, "firing": self.firing}
