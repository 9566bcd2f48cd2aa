"""`/sandbox/...`: the inspection read API, fault control, trigger ids and file transfer.

JSON over HTTP, so a test or the demo in another process can see and steer the emulator.
"""

from __future__ import annotations

import email.parser
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.sandbox import inspection
from bot.sandbox.faults import FaultError
from bot.sandbox.params import SlackError
from bot.sandbox.server import Request, Response, Router

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator


def _upload_bytes(request: Request) -> bytes:
    kind = request.header("content-type")
    if not kind.lower().startswith("multipart/form-data"):
        return request.body
    head = f"Content-Type: {kind}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + request.body)
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if part.get_filename() is not None and isinstance(payload, bytes):
            return payload
    return b""


def _json(fn: Callable[[Request], Any]) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        try:
            return Response.of_json(inspection.to_jsonable(fn(request)))
        except KeyError as exc:
            return Response.of_json({"ok": False, "error": f"not found: {exc}"}, status=404)
        except (FaultError, SlackError, ValueError, TypeError) as exc:
            return Response.of_json({"ok": False, "error": str(exc)}, status=400)

    return handler


def register(router: Router, emu: Emulator) -> None:
    """Add every `/sandbox/...` route for `emu` to `router`."""
    store = emu.store

    def add_fault(request: Request) -> Any:
        body = request.json()
        if body.get("clear"):
            emu.faults.clear(body.get("method"))
            return {"ok": True, "faults": emu.faults.snapshot()}
        if "seed" in body:
            emu.faults.reseed(int(body.pop("seed")))
        if "kind" not in body:
            return {"ok": True, "faults": emu.faults.snapshot()}
        rule = emu.faults.add(**body)
        return {"ok": True, "fault": rule.as_dict()}

    def clear_faults(request: Request) -> Any:
        emu.faults.clear(request.query.get("method"))
        return {"ok": True}

    def upload(request: Request) -> Response:
        if not emu.receive_upload(request.params["file_id"], _upload_bytes(request)):
            return Response.text("file not found", status=404)
        return Response.text(f"OK - {len(request.body)}")

    def download(request: Request) -> Response:
        record = store.files.get(request.params["file_id"])
        if record is None or record.content is None:
            return Response.text("file not found", status=404)
        return Response(body=record.content, content_type="application/octet-stream")

    def post_as(request: Request) -> Any:
        body = request.json()
        return emu.post_as_user(
            str(body["user"]), str(body["channel"]), str(body["text"]), body.get("thread_ts")
        )

    def close_view(request: Request) -> Any:
        emu.close_view(request.params["view_id"])
        return {"ok": True}

    since = "since"
    routes: list[tuple[str, str, Callable[[Request], Any]]] = [
        (
            "GET",
            "/sandbox/calls",
            lambda r: emu.calls(r.query.get("method"), int(r.query.get(since, 0))),
        ),
        ("GET", "/sandbox/channels", lambda r: emu.channels(include_ims="ims" in r.query)),
        ("GET", "/sandbox/channels/(?P<ref>[^/]+)", lambda r: emu.channel(r.params["ref"])),
        (
            "GET",
            "/sandbox/channels/(?P<ref>[^/]+)/messages",
            lambda r: emu.transcript(r.params["ref"]),
        ),
        ("GET", "/sandbox/channels/(?P<ref>[^/]+)/pins", lambda r: emu.pins(r.params["ref"])),
        (
            "GET",
            "/sandbox/channels/(?P<ref>[^/]+)/bookmarks",
            lambda r: emu.bookmarks(r.params["ref"]),
        ),
        ("GET", "/sandbox/dms", lambda r: emu.dms()),
        (
            "GET",
            "/sandbox/dms/(?P<user>[^/]+)",
            lambda r: emu.dms(r.params["user"]).get(r.params["user"], []),
        ),
        (
            "GET",
            "/sandbox/ephemerals",
            lambda r: emu.ephemerals(r.query.get("user"), r.query.get("channel")),
        ),
        ("GET", "/sandbox/views", lambda r: emu.views(r.query.get("user"))),
        ("GET", "/sandbox/responses", lambda r: emu.driver_responses()),
        ("POST", "/sandbox/views/(?P<view_id>[^/]+)/close", close_view),
        ("GET", "/sandbox/scheduled", lambda r: emu.scheduled()),
        ("GET", "/sandbox/workspace", lambda r: emu.workspace()),
        ("GET", "/sandbox/faults", lambda r: emu.faults.snapshot()),
        ("POST", "/sandbox/faults", add_fault),
        ("DELETE", "/sandbox/faults", clear_faults),
        (
            "POST",
            "/sandbox/trigger_ids",
            lambda r: {"trigger_id": emu.mint_trigger_id(str(r.json()["user_id"]))},
        ),
        ("POST", "/sandbox/messages", post_as),
    ]
    for verb, pattern, fn in routes:
        router.add(verb, pattern, _json(fn))
    router.add("POST", "/sandbox/upload/(?P<file_id>[A-Z0-9]+)", upload)
    router.add("GET", "/sandbox/files/(?P<file_id>[A-Z0-9]+)(?:/[^/]*)?", download)
