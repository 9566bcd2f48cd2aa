"""views.*: modals opened with single-use, short-lived trigger ids, stacks, updates, home tabs."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from bot.sandbox.blocks import view_payload
from bot.sandbox.params import Ctx, JsonDict, SlackError, invalid_arguments
from bot.sandbox.shapes import view_obj
from bot.sandbox.state import Store, ViewRecord

MAX_STACK = 3


def mint_trigger_id(store: Store, user_id: str) -> str:
    """A trigger id for `user_id`, as Slack puts in an interaction payload: one use, ttl seconds."""
    store.user(user_id)
    now = time.time()
    trigger_id = f"{int(now)}.{secrets.randbelow(10**9):09d}.{secrets.token_hex(10)}"
    with store.lock:
        store.triggers[trigger_id] = (user_id, now, False)
    return trigger_id


def _use_trigger(store: Store, ctx: Ctx) -> str:
    trigger_id = ctx.args.text("trigger_id", missing="invalid_arguments")
    entry = store.triggers.get(trigger_id)
    if entry is None:
        raise SlackError("invalid_trigger_id")
    user_id, minted, used = entry
    if used or time.time() - minted > store.trigger_ttl:
        raise SlackError("expired_trigger_id")
    store.triggers[trigger_id] = (user_id, minted, True)
    return user_id


def _new_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _view_arg(ctx: Ctx) -> JsonDict:
    raw = ctx.args.parsed("view")
    if raw is None:
        raise invalid_arguments("[ERROR] missing required field: view")
    return view_payload(raw)


def _check_external_id(store: Store, view: JsonDict, current: ViewRecord | None = None) -> None:
    external = view.get("external_id")
    if not external:
        return
    for record in store.views.values():
        if (
            record is not current
            and not record.closed
            and record.view.get("external_id") == external
        ):
            raise SlackError("duplicate_external_id")


def _register(
    store: Store, user: str, view: JsonDict, root: str | None, prev: str | None
) -> ViewRecord:
    view_id = store.new_id("V")
    record = ViewRecord(
        id=view_id,
        user=user,
        type=view["type"],
        view=view,
        hash=_new_hash(),
        root_view_id=root or view_id,
        previous_view_id=prev,
    )
    store.views[view_id] = record
    return record


def open_view(store: Store, ctx: Ctx) -> JsonDict:
    view = _view_arg(ctx)
    if view["type"] != "modal":
        raise invalid_arguments("[ERROR] views.open only opens modals [json-pointer:/view/type]")
    user = _use_trigger(store, ctx)
    _check_external_id(store, view)
    for old in store.view_stacks.get(user, []):
        store.views[old].closed = True
    record = _register(store, user, view, None, None)
    store.view_stacks[user] = [record.id]
    return {"ok": True, "view": view_obj(store, record)}


def push_view(store: Store, ctx: Ctx) -> JsonDict:
    view = _view_arg(ctx)
    user = _use_trigger(store, ctx)
    stack = store.view_stacks.get(user, [])
    if not stack:
        raise SlackError("not_found")
    if len(stack) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    _check_external_id(store, view)
    record = _register(store, user, view, stack[0], stack[-1])
    stack.append(record.id)
    return {"ok": True, "view": view_obj(store, record)}


def update_view(store: Store, ctx: Ctx) -> JsonDict:
    view = _view_arg(ctx)
    view_id, external_id = ctx.args.opt("view_id"), ctx.args.opt("external_id")
    if not view_id and not external_id:
        raise invalid_arguments("[ERROR] either view_id or external_id is required")
    record = store.views.get(view_id or "")
    if record is None and external_id:
        record = next(
            (r for r in store.views.values() if r.view.get("external_id") == external_id), None
        )
    if record is None or record.closed:
        raise SlackError("not_found")
    expected = ctx.args.opt("hash")
    if expected and expected != record.hash:
        raise SlackError("hash_conflict")
    _check_external_id(store, view, record)
    record.view, record.type, record.hash = view, view["type"], _new_hash()
    return {"ok": True, "view": view_obj(store, record)}


def publish_view(store: Store, ctx: Ctx) -> JsonDict:
    view = _view_arg(ctx)
    if view["type"] != "home":
        raise invalid_arguments("[ERROR] views.publish only publishes home tabs")
    user = ctx.args.text("user_id", missing="invalid_arguments")
    store.user(user)
    current = store.views.get(store.home_views.get(user, ""))
    expected = ctx.args.opt("hash")
    if current is not None and expected and expected != current.hash:
        raise SlackError("hash_conflict")
    if current is None:
        current = _register(store, user, view, None, None)
        store.home_views[user] = current.id
    else:
        current.view, current.hash = view, _new_hash()
    return {"ok": True, "view": view_obj(store, current)}


def close_view(store: Store, view_id: str) -> None:
    """What a submission or a click on Cancel does: drop the view (and views above it)."""
    with store.lock:
        record = store.views.get(view_id)
        if record is None:
            raise KeyError(view_id)
        stack = store.view_stacks.get(record.user, [])
        if view_id in stack:
            for gone in stack[stack.index(view_id) :]:
                store.views[gone].closed = True
            del stack[stack.index(view_id) :]
        record.closed = True


METHODS: dict[str, Callable[[Store, Ctx], JsonDict]] = {
    "views.open": open_view,
    "views.push": push_view,
    "views.update": update_view,
    "views.publish": publish_view,
}
