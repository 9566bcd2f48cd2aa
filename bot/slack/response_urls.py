"""POSTs to a request's response_url over kept-alive connections (one per thread and host).

Bolt's `respond` builds a new webhook client and opens a new connection for every message;
an ack storm sends one message per click, and the connection setup was most of the cost.
Here each thread of the after-answer pool keeps its connection to Slack's host open. A
kept connection that the server closed meanwhile is replaced, and the message sent once
more on the new one; any other failure is raised for the caller to log.

Where a proxy applies (HTTPS_PROXY and friends, or Bolt's own proxy or TLS settings), Bolt's
`respond` is used as it is (`usable`).
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import Respond

_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
HEADERS = {"Content-Type": "application/json;charset=utf-8"}


def message(text: str | dict[str, Any] = "", **fields: Any) -> dict[str, Any]:
    """The JSON body Bolt's `respond(text, blocks=..., response_type=..., ...)` would send."""
    body = dict(text) if isinstance(text, dict) else {"text": text, **fields}
    body = {key: value for key, value in body.items() if value is not None}
    for key in ("blocks", "attachments"):
        if body.get(key):
            body[key] = [b.to_dict() if hasattr(b, "to_dict") else b for b in body[key]]
    return body


class ResponseUrls:
    def __init__(self, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s
        self._proxied = bool(urllib.request.getproxies())  # read once: the environment's
        self._local = threading.local()

    def usable(self, respond: Respond) -> bool:
        """Whether this poster may send for `respond` (no proxy, no custom TLS context)."""
        return not self._proxied and respond.proxy is None and respond.ssl is None

    def post(self, url: str, body: dict[str, Any]) -> int:
        """POST `body` as JSON to `url`; the HTTP status."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("a response_url must be an http(s) URL")
        conns: dict[tuple[str, str], http.client.HTTPConnection] = getattr(self._local, "conns", {})
        self._local.conns = conns
        key = (parts.scheme, parts.netloc)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        payload = json.dumps(body).encode()
        while True:
            conn = conns.pop(key, None)
            reused = conn is not None
            if conn is None:
                https = key[0] == "https"
                kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
                conn = kind(parts.netloc, timeout=self.timeout_s)
            try:
                conn.request("POST", target, payload, HEADERS)
                response = conn.getresponse()
                response.read()
            except _STALE:
                conn.close()
                if reused:
                    continue  # the server closed the kept connection: once on a new one
                raise
            except BaseException:
                conn.close()
                raise
            if not response.will_close:
                conns[key] = conn
            else:
                conn.close()
            return response.status
