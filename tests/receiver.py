"""A real local HTTP server that records every request it is sent (webhooks, heartbeats)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)  # when it was received (POSIX s)


@dataclass
class Receiver:
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    statuses: list[int] = field(default_factory=list)  # answered first, one per request; then 200
    answer_after_s: float = 0.0  # how long after recording a request it is answered

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        received, statuses, wait = self.requests, self.statuses, self.answer_after_s
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    received.append(
                        Received(self.command, self.path, dict(self.headers.items()), body)
                    )
                    status = statuses.pop(0) if statuses else 200
                time.sleep(wait)  # recorded: a client that stops waiting now lost the answer
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = _record  # the names http.server calls

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
