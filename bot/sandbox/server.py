"""The HTTP layer: a threading stdlib server and a small route table.

Routes are (verb, regex, handler); a handler takes a `Request` and returns a `Response`.
Add pages or endpoints with `Router.add` (the sandbox page plugs in at `/` this way).
A body over `MAX_BODY` (1 MiB) is refused with 413 before it is read, and the connection closed.
A client that hangs up mid-request (a browser tab closed while polling) is counted in
`dropped`, not printed as a traceback on the demo's console.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.web_limits import MAX_BODY


@dataclass
class Request:
    verb: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering

    @classmethod
    def of_json(cls, data: Any, status: int = 200, **headers: str) -> Response:
        body = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return cls(status=status, body=body, headers=dict(headers))

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        return cls(status=status, body=text.encode("utf-8"), content_type=content_type)


RouteHandler = Callable[[Request], Response]


class Router:
    """An ordered route table; the first (verb, pattern) that matches the path wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], RouteHandler]] = []

    def add(self, verb: str, pattern: str, handler: RouteHandler, *, first: bool = False) -> None:
        route = (verb.upper(), re.compile(f"^{pattern}$"), handler)
        if first:
            self._routes.insert(0, route)
        else:
            self._routes.append(route)

    def dispatch(self, request: Request) -> Response:
        verb_mismatch = False
        for verb, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if verb not in (request.verb, "*"):
                verb_mismatch = True
                continue
            request.params = match.groupdict()
            return handler(request)
        if verb_mismatch:
            return Response.of_json({"ok": False, "error": "method_not_allowed"}, status=405)
        return Response.of_json({"ok": False, "error": "not_found"}, status=404)


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the call log is the record

    def _handle(self) -> None:
        declared = self.headers.get("Content-Length") or "0"
        length = int(declared) if declared.isdigit() else -1
        if not 0 <= length <= MAX_BODY:  # refused unread: the connection closes after
            error = "bad Content-Length" if length < 0 else f"request body over {MAX_BODY} bytes"
            response = Response.of_json({"ok": False, "error": error}, 400 if length < 0 else 413)
            response.headers["Connection"] = "close"
        else:
            response = self._dispatch(self.rfile.read(length) if length else b"")
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _dispatch(self, body: bytes) -> Response:
        parts = urlsplit(self.path)
        request = Request(
            verb=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            return self.server.router.dispatch(request)
        except Exception as exc:  # a bug in the emulator: answer 500 and say so
            self.server.errors.append(repr(exc))
            return Response.of_json({"ok": False, "error": "internal_error"}, status=500)

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _handle


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, router: Router) -> None:
        super().__init__((host, port), _Handler)
        self.router = router
        self.errors: list[str] = []
        self.dropped = 0  # connections the client closed before its answer was written
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a closed browser tab) is counted; anything else is a bug."""
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipe, ConnectionReset, …
            with self._lock:
                self.dropped += 1
            return
        super().handle_error(request, client_address)

    def start_background(self) -> None:
        self.thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-http",
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
