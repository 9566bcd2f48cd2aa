"""A cap on request bodies for WSGI apps: an oversized body is refused before it is read.

A body announced by `Content-Length` over `MAX_BODY` gets 413 without a byte of it read. A
chunked body (no `Content-Length`, on a server that ends `wsgi.input` at the body's end, as
gunicorn does) is read up to `MAX_BODY + 1` bytes: over the cap it is refused, otherwise it
is handed on in memory with its length set, so the app reads it as a sized one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

MAX_BODY = 1024 * 1024  # 1 MiB: Slack's requests are a few KB
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def refuse(
    environ: dict[str, Any], start_response: StartResponse, limit: int = MAX_BODY
) -> list[bytes] | None:
    """The answer to a request whose body is too large (or its length unreadable); None when
    the request may go on (a chunked body is then in memory, see the module's docstring)."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        try:
            length = int(declared)
        except ValueError:
            return json_answer(start_response, 400, {"ok": False, "error": "bad Content-Length"})
        if length > limit:
            return _too_large(start_response, limit)
        return None
    if not environ.get("wsgi.input_terminated") or "wsgi.input" not in environ:
        return None  # without a length the app reads nothing (PEP 3333)
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return _too_large(start_response, limit)
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    return None


def _too_large(start_response: StartResponse, limit: int) -> list[bytes]:
    error = f"request body over {limit} bytes"
    return json_answer(start_response, 413, {"ok": False, "error": error})


def json_answer(
    start_response: StartResponse,
    status: int,
    body: dict[str, Any],
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    """Answer `body` as JSON with `status` (and any extra `headers`)."""
    data = json.dumps(body).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers],
    )
    return [data]


class BodyLimit:
    """Wraps a WSGI app: `refuse` runs before the app sees the request."""

    def __init__(self, app: WsgiApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        refused = refuse(environ, start_response, self.limit)
        return refused if refused is not None else self.app(environ, start_response)
