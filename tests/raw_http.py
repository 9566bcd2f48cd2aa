"""Raw HTTP requests urllib does not send: a head announcing a body that never follows, and a
body (sized or chunked) sent while the answer is read (a server may answer before taking it
all, and urllib would fail on the closed connection instead of reading the answer)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit


def connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)


def announced(url: str, method: str, path: str, length: int) -> tuple[int, bytes]:
    """Send only the head of a request announcing `length` body bytes; the answer to it."""
    conn = connection(url)
    try:
        conn.putrequest(method, path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def streamed(
    url: str,
    path: str,
    chunks: Iterator[bytes],
    headers: Mapping[str, str],
    length: int | None = None,
) -> tuple[int, bytes]:
    """POST `chunks` from a thread while reading the answer: as a body of `length` bytes, or
    with Transfer-Encoding: chunked when `length` is None."""
    conn = connection(url)
    conn.putrequest("POST", path)
    framing = (
        {"Transfer-Encoding": "chunked"} if length is None else {"Content-Length": str(length)}
    )
    for name, value in {**headers, **framing}.items():
        conn.putheader(name, value)
    conn.endheaders()
    sock = conn.sock

    def send() -> None:
        try:
            for chunk in chunks:
                sock.sendall(chunk if length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if length is None:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before taking it all

    writer = threading.Thread(target=send, daemon=True)
    writer.start()
    try:
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
        writer.join(timeout=10)


def pieces(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """`total` bytes in chunks of `size`."""
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)
