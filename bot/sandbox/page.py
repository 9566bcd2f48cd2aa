"""The sandbox page: static files at `/`, one JSON snapshot for it, and the act endpoints.

GET  /                         the page (bot/sandbox/static/index.html)
GET  /static/<file>            its script and style sheet (nothing is fetched elsewhere)
GET  /sandbox/page/state       what the page shows for ?user=U…&channel=C…
GET  /sandbox/emoji.json       the emoji shortcode table, for rendering :name: as Slack does
POST /sandbox/act/slash        {"user", "channel", "text", "command"?}
POST /sandbox/act/click        {"user", "channel", "ts", "action_id", "value"?}
                               or {"user", "view_id", "action_id", "values"?} (a modal or Home)
POST /sandbox/act/submit       {"user", "view_id", "values": {action_id: value}}
POST /sandbox/act/close        {"user", "view_id"}
POST /sandbox/act/home         {"user"}: the user opened the app's Home tab (app_home_opened)
POST /sandbox/respond/<token>  a response_url, answered as Slack does
POST /sandbox/respond/<kind>/<team>/<serial>/<token>
                               a response_url a Driver minted (Slack's own shape): accepted
                               and kept as sent (GET /sandbox/responses), as Slack would

The act endpoints sign what they send to the bot, so they take only what the page itself
sends: JSON (415 otherwise), from the page's own origin when the request names one, to a
loopback Host of this server (403 otherwise: another site's page, or a DNS-rebound name).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import emoji

from bot.sandbox import inspection
from bot.sandbox.bridge import BridgeError
from bot.sandbox.params import JsonDict, SlackError
from bot.sandbox.server import Request, Response, RouteHandler, Router
from bot.sandbox.shapes import view_obj

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

_TYPES = {"html": "text/html", "js": "text/javascript", "css": "text/css"}
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def static_file(name: str) -> Response:
    """A file of bot/sandbox/static, or 404."""
    folder = resources.files("bot.sandbox").joinpath("static")
    kind = _TYPES.get(name.rsplit(".", 1)[-1])
    target = folder.joinpath(name)
    if kind is None or "/" in name or not target.is_file():
        return Response.text("not found", status=404)
    body = target.read_bytes()
    headers = {"Cache-Control": "no-store"}
    return Response(body=body, content_type=f"{kind}; charset=utf-8", headers=headers)


# Slack (iamcal's emoji-data) calls the Unicode 12 coloured circles and squares "large_…"
# (:large_green_circle:) where CLDR says :green_circle:; both are accepted.
_SLACK_LARGE = re.compile(r"^:(?!large_)(\w+_(?:circle|square)):$")


@functools.cache
def emoji_table() -> Response:
    """`{shortcode: emoji}` for the page: every CLDR name and alias the `emoji` package knows."""
    table: dict[str, str] = {}
    for char, data in emoji.EMOJI_DATA.items():
        for name in [data["en"], *data.get("alias", [])]:
            table.setdefault(name.strip(":"), char)
            large = _SLACK_LARGE.match(name)
            if large:
                table.setdefault(f"large_{large.group(1)}", char)
    response = Response.of_json(table)
    response.headers["Cache-Control"] = "max-age=86400"
    return response


def _dms_of(emu: Emulator, user: str) -> list[JsonDict]:
    """`user`'s direct messages, as Slack's sidebar lists them: nobody else's. The app's DM
    (its Messages tab) is always there, opened on first look, as Slack lists an installed app."""
    store, bot = emu.store, emu.store.spec.bot.user_id
    known = store.users.get(user)
    if known is None or known.is_bot:
        return []
    store.open_dm(user, bot)
    out = []
    for pair, channel_id in store.dms.items():
        if user in pair:
            other = next(iter(pair - {user}), user)
            count = len(store.order.get(channel_id, []))
            out.append(
                {"user": other, "channel": channel_id, "message_count": count, "app": other == bot}
            )
    return sorted(out, key=lambda d: (not d["app"], str(d["user"])))


def _home(emu: Emulator, user: str) -> JsonDict | None:
    """The Home tab the app published for `user` (views.publish), or None."""
    record = emu.store.views.get(emu.store.home_views.get(user, ""))
    return None if record is None else view_obj(emu.store, record)


def page_state(emu: Emulator, user: str, channel: str) -> JsonDict:
    """Everything the page draws for `user` looking at `channel`, in one consistent snapshot."""
    store = emu.store
    with store.lock:
        state: JsonDict = {
            "team": store.spec.team.model_dump(),
            "bot": store.spec.bot.model_dump(),
            "app": {"url": emu.app_url, "ready": bool(emu.app_url and emu.signing_secret)},
            "alerts": {"enabled": emu.alert_button is not None},
            "automation": emu.automation.snapshot()[-10:],
            "users": [u.model_dump() for u in store.users.values()],
            "usergroups": [{"id": g.id, "handle": g.handle} for g in store.usergroups.values()],
            "channels": emu.channels(),
            "dms": _dms_of(emu, user),
            "home": _home(emu, user),
            "channel": None,
            "messages": [],
            "ephemerals": [],
            "modal": None,
        }
        found = store.channels.get(channel) if channel else None
        if found is not None:
            state["channel"] = {
                **inspection.channel_summary(store, found),
                "pins": emu.pins(found.id),
                "bookmarks": emu.bookmarks(found.id),
            }
            state["messages"] = emu.transcript(found.id)
            state["ephemerals"] = emu.ephemerals(user, found.id)
        stack = store.view_stacks.get(user, [])
        top = next((v for v in emu.views(user) if stack and v["id"] == stack[-1]), None)
        if top is not None:
            top["errors"] = emu.view_errors(top["id"])
            state["modal"] = top
        return inspection.to_jsonable(state)  # type: ignore[no-any-return]


def _handle(fn: Callable[[Request], Any]) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        try:
            return Response.of_json(inspection.to_jsonable(fn(request)))
        except BridgeError as exc:
            return Response.of_json({"ok": False, "error": str(exc)}, status=409)
        except KeyError as exc:
            return Response.of_json({"ok": False, "error": f"not found: {exc}"}, status=404)
        except SlackError as exc:
            return Response.of_json(exc.body(), status=400)
        except (LookupError, ValueError, TypeError) as exc:
            return Response.of_json({"ok": False, "error": str(exc)}, status=400)
        except OSError as exc:  # the app did not answer
            return Response.of_json({"ok": False, "error": f"app unreachable: {exc}"}, 502)

    return handler


def _page_only(emu: Emulator, handler: RouteHandler) -> RouteHandler:
    """`handler` for requests the page could have sent; others are refused (see above)."""

    def guarded(request: Request) -> Response:
        host, origin = request.header("host").lower(), request.header("origin").lower()
        if host not in {f"{name}:{emu.port}" for name in (*_LOOPBACK, emu.host)}:
            error = f"Host {host!r} is not this sandbox: open the page at {emu.root_url}"
            return Response.of_json({"ok": False, "error": error}, status=403)
        if origin and origin != f"http://{host}":
            error = f"a page at {origin} may not act in this sandbox"
            return Response.of_json({"ok": False, "error": error}, status=403)
        kind = request.header("content-type").partition(";")[0].strip().lower()
        if kind != "application/json":
            error = f"send JSON (Content-Type: application/json), not {kind or 'no type'}"
            return Response.of_json({"ok": False, "error": error}, status=415)
        return handler(request)

    return guarded


def _slash(emu: Emulator, body: JsonDict) -> JsonDict:
    text, command = str(body.get("text", "")), body.get("command")
    if not command:
        command, _, text = text.strip().partition(" ")
    if not str(command).startswith("/"):
        raise ValueError(f"not a slash command: {command!r}")
    return emu.act_slash(str(body["user"]), text, channel=str(body["channel"]), command=command)


def _click(emu: Emulator, body: JsonDict) -> JsonDict:
    return emu.bridge.click(
        str(body["user"]),
        str(body["action_id"]),
        channel=body.get("channel"),
        ts=body.get("ts"),
        view_id=body.get("view_id"),
        value=body.get("value"),
        values=body.get("values") or {},
    )


def _driver_respond(emu: Emulator, request: Request) -> JsonDict:
    body = request.json()
    if not isinstance(body, dict):
        raise ValueError("a response_url takes a JSON object")
    kept = {"kind": request.params["kind"], "token": request.params["token"], "body": body}
    with emu.store.lock:
        emu.store.driver_responses.append(kept)
    return {"ok": True}


def _alert(emu: Emulator) -> JsonDict:
    if emu.alert_button is None:
        raise LookupError("no alert endpoint was given to this sandbox (tocsin demo gives one)")
    return emu.alert_button.press()


def _respond(emu: Emulator, request: Request) -> JsonDict:
    body = request.json()
    if not isinstance(body, dict):
        raise ValueError("a response_url takes a JSON object")
    return {"ok": True, "outcome": emu.bridge.respond(request.params["token"], body)}


def register(router: Router, emu: Emulator) -> None:
    """Add the page, its state and the act/respond endpoints for `emu` to `router`."""
    router.add("GET", "/", lambda r: static_file("index.html"))
    router.add("GET", "/static/(?P<name>[A-Za-z0-9_.-]+)", lambda r: static_file(r.params["name"]))
    router.add("GET", "/sandbox/emoji.json", lambda r: emoji_table())
    routes: list[tuple[str, Callable[[Request], Any]]] = [
        (
            "/sandbox/page/state",
            lambda r: page_state(emu, r.query.get("user", ""), r.query.get("channel", "")),
        ),
        ("/sandbox/act/slash", lambda r: _slash(emu, r.json())),
        ("/sandbox/act/home", lambda r: emu.bridge.home_opened(str(r.json()["user"]))),
        ("/sandbox/act/click", lambda r: _click(emu, r.json())),
        (
            "/sandbox/act/submit",
            lambda r: emu.act_submit(
                str(r.json()["user"]), str(r.json()["view_id"]), r.json().get("values") or {}
            ),
        ),
        (
            "/sandbox/act/close",
            lambda r: emu.act_close(str(r.json()["user"]), str(r.json()["view_id"])),
        ),
        ("/sandbox/respond/(?P<token>[A-Za-z0-9_-]+)", lambda r: _respond(emu, r)),
        (
            "/sandbox/respond/(?P<kind>commands|actions)/(?P<team>[A-Z0-9]+)/[0-9]+"
            "/(?P<token>[A-Za-z0-9_-]+)",
            lambda r: _driver_respond(emu, r),
        ),
        ("/sandbox/act/alert", lambda r: _alert(emu)),
    ]
    for pattern, fn in routes:
        handler = _handle(fn)
        if pattern.startswith("/sandbox/act/"):
            handler = _page_only(emu, handler)
        router.add("GET" if pattern.endswith("state") else "POST", pattern, handler)
