"""The sandbox's automation receiver: where a runbook's containment webhooks land locally.

`POST /automation/<name>` records what arrived and whether its signature checked, and
answers 200 (or, while `fail_next` holds statuses, those first: a test's 5xx). A request is
signed as README.md "Containment actions" says: `X-Tocsin-Timestamp`, and
`X-Tocsin-Signature: v1=<hex HMAC-SHA256(secret, "v1:<timestamp>:<body>")>`. This check is
written here on its own (the sandbox imports nothing of the product), as any receiver would.
An `Idempotency-Key` seen before with a 2xx answer is recorded but has no second effect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from typing import Any

from bot.sandbox.server import Request, Response, Router

MAX_AGE_S = 300  # a timestamp older (or newer) than this is refused, as replay protection
KEEP = 100  # arrivals remembered


def verify(secret: str, timestamp: str, body: bytes, given: str, now: float) -> str:
    """ "" when the signature checks; else why not."""
    if not timestamp.isdigit():
        return "no X-Tocsin-Timestamp"
    if abs(now - int(timestamp)) > MAX_AGE_S:
        return "timestamp too old or in the future"
    mac = hmac.new(secret.encode(), b"v1:" + timestamp.encode() + b":" + body, hashlib.sha256)
    if not hmac.compare_digest(given.encode(), f"v1={mac.hexdigest()}".encode()):
        return "signature does not match"
    return ""


class AutomationReceiver:
    """Records containment webhooks; `secret` is what the app must sign them with."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret or secrets.token_hex(16)
        self.lock = threading.Lock()
        self.arrivals: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.fail_next: list[int] = []  # statuses answered first, one per request
        self._done: set[str] = set()  # idempotency keys that had their effect

    def register(self, router: Router) -> None:
        router.add("POST", r"/automation/(?P<name>[A-Za-z0-9_-]{1,40})", self.receive)
        router.add("GET", r"/sandbox/automation", lambda _: Response.of_json(self.snapshot()))
        router.add("POST", r"/sandbox/automation/fail", self._fail)

    def receive(self, request: Request) -> Response:
        stamp = request.header("x-tocsin-timestamp")
        problem = verify(
            self.secret, stamp, request.body, request.header("x-tocsin-signature"), time.time()
        )
        key = request.header("idempotency-key")
        with self.lock:
            status = 401 if problem else (self.fail_next.pop(0) if self.fail_next else 200)
            effect = status == 200 and key not in self._done
            if effect:
                self._done.add(key)
            self.arrivals.append(
                {
                    "at": time.time(),
                    "name": request.params["name"],
                    "key": key,
                    "signed": not problem,
                    "problem": problem,
                    "status": status,
                    "effect": effect,
                    "body": _parsed(request.body),
                }
            )
        answer = {"ok": status == 200, "effect": effect, "problem": problem or None}
        return Response.of_json(answer, status=status)

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.arrivals)

    def _fail(self, request: Request) -> Response:
        statuses = request.json().get("statuses", [])
        with self.lock:
            self.fail_next = [int(s) for s in statuses]
        return Response.of_json({"ok": True})


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return body[:500].decode("utf-8", "replace")
