"""A local Socket Mode endpoint that speaks Slack's envelope protocol.

`SocketHub` runs a `websockets` server on its own event loop in a background thread. A
client that connects to `hub.url` gets Slack's `hello`; `hub.send()` pushes an envelope
(`slash_commands`, `interactive` or `events_api`) to the newest link and blocks until the
client acks it with `{"envelope_id", "payload"?}`; `hub.disconnect()` sends Slack's
`disconnect` message so the client reconnects. WebSocket ping/pong is answered by the
protocol layer, as Slack's servers do.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import uuid
from collections.abc import Coroutine, Mapping
from http import HTTPStatus
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

T = TypeVar("T")
EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
_RESPONSE_PAYLOAD_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class HubError(Exception):
    """The hub could not deliver an envelope."""


class NotConnected(HubError):
    """No client is connected to the hub."""


class AckTimeout(HubError):
    """The client did not acknowledge an envelope in time."""


class SocketHub:
    """Slack's Socket Mode server side, in-process, on a free port of 127.0.0.1."""

    def __init__(self, *, app_id: str = "A0TOCSIN1", ack_timeout: float = 5.0) -> None:
        self.app_id = app_id
        self.ack_timeout = ack_timeout
        self.ticket = secrets.token_hex(16)
        self.sent: list[dict[str, Any]] = []  # every envelope pushed, in order
        self.acks: list[dict[str, Any]] = []  # every ack received, in order
        self.connects_total = 0
        self._links: list[ServerConnection] = []
        self._draining: set[ServerConnection] = set()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._port = 0

    @property
    def url(self) -> str:
        """The WebSocket URL `apps.connections.open` should hand out."""
        if not self._port:
            raise HubError("SocketHub.url is known only after start()")
        return f"ws://127.0.0.1:{self._port}/link/?ticket={self.ticket}&app_id={self.app_id}"

    @property
    def connections(self) -> int:
        """How many clients are connected now."""
        return len(self._links)

    def start(self) -> SocketHub:
        """Start serving on a free port; returns once the port is listening."""
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="socket-hub", daemon=True
        )
        self._thread.start()
        if not started.wait(timeout=10):
            raise HubError("SocketHub did not start listening within 10 s")
        return self

    def stop(self) -> None:
        """Close every link and the server, and end the background thread."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = self._loop = None

    def __enter__(self) -> SocketHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until `count` connections have been made in total and one is open."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self.connects_total >= count and self._open_links() != [], timeout
            )
        if not ok:
            raise NotConnected(f"{self.connects_total} of {count} connections within {timeout} s")

    def send(
        self,
        envelope_type: EnvelopeType,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        envelope_id: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Push one envelope to the newest link and return the client's ack message."""
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id or str(uuid.uuid4()),
            "payload": dict(payload),
            "type": envelope_type,
            "accepts_response_payload": _accepts_response(envelope_type, payload)
            if accepts_response_payload is None
            else accepts_response_payload,
        }
        if envelope_type == "events_api" or retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = retry_reason or ""
        wait = self.ack_timeout if timeout is None else timeout
        self.wait_connected(timeout=wait)
        return self._call(self._deliver(envelope, wait), wait + 5)

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Tell every open link to reconnect, as Slack does before recycling a host."""
        message = {"type": "disconnect", "reason": reason, "debug_info": _debug_info()}
        self._call(self._announce_disconnect(message), 5)

    # -- the loop thread -------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._loop is None:
            coroutine.close()
            raise HubError("SocketHub is not running; call start() first")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _run(self, started: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve(started))
        finally:
            self._loop.close()

    async def _serve(self, started: threading.Event) -> None:
        self._stopping = asyncio.Event()
        server: Server
        # close_timeout: a client whose reader thread is gone never answers our close frame.
        async with serve(
            self._handle, "127.0.0.1", 0, process_request=self._check, close_timeout=1
        ) as server:
            self._port = server.sockets[0].getsockname()[1]
            started.set()
            await self._stopping.wait()

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        ticket = parse_qs(parts.query).get("ticket", [""])[0]
        if parts.path.rstrip("/") != "/link" or ticket != self.ticket:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")
        return None

    async def _handle(self, link: ServerConnection) -> None:
        with self._changed:
            self._links.append(link)
            self.connects_total += 1
            self._changed.notify_all()
        hello = {
            "type": "hello",
            "num_connections": len(self._links),
            "debug_info": _debug_info(),
            "connection_info": {"app_id": self.app_id},
        }
        try:
            await link.send(json.dumps(hello))
            async for raw in link:
                self._receive(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._links.remove(link)
                self._draining.discard(link)
                self._changed.notify_all()

    def _receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            return
        self.acks.append(message)
        future = self._pending.get(str(message["envelope_id"]))
        if future is not None and not future.done():
            future.set_result(message)

    def _open_links(self) -> list[ServerConnection]:
        return [link for link in self._links if link not in self._draining]

    async def _deliver(self, envelope: dict[str, Any], timeout: float) -> dict[str, Any]:
        links = self._open_links()
        if not links:
            raise NotConnected("no client is connected to the SocketHub")
        envelope_id = envelope["envelope_id"]
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        try:
            self.sent.append(envelope)
            await links[-1].send(json.dumps(envelope))
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            kind = envelope["type"]
            raise AckTimeout(f"no ack for {kind} envelope {envelope_id} in {timeout} s") from None
        finally:
            self._pending.pop(envelope_id, None)

    async def _announce_disconnect(self, message: dict[str, Any]) -> None:
        for link in self._open_links():
            self._draining.add(link)
            await link.send(json.dumps(message))


def _accepts_response(envelope_type: str, payload: Mapping[str, Any]) -> bool:
    if envelope_type == "slash_commands":
        return True
    return envelope_type == "interactive" and payload.get("type") in _RESPONSE_PAYLOAD_INTERACTIONS


def _debug_info() -> dict[str, Any]:
    return {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060}
