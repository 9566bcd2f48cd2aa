"""`AppServer`: serve a WSGI app (a Bolt app's `SlackRequestHandler`) on a free local port.

For tests and the sandbox: the bot receives the bridge's signed requests over real HTTP.
Threaded, so a listener may call the emulator (views.open, chat.postMessage) while Slack's
request is still open. Bodies over 1 MiB are refused unread (`bot.web_limits`), as in
production, where the bot runs behind a real WSGI server instead.
"""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

from bot.web_limits import BodyLimit


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class AppServer:
    """Serves `app` at `http://127.0.0.1:<port><path>` in a background thread."""

    def __init__(self, app: WSGIApplication, *, path: str = "/slack/events") -> None:
        self._app = BodyLimit(app)
        self.path = path
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the app server is not started")
        return f"http://127.0.0.1:{self._server.server_port}{self.path}"

    def start(self) -> AppServer:
        server = make_server(
            "127.0.0.1",
            0,
            self._app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        if not isinstance(server, _ThreadingWSGIServer):
            raise TypeError(f"make_server built a {type(server).__name__}")
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
