"""`/api/<method>`: argument parsing, tokens, faults, rate limits, dispatch and the call log."""

from __future__ import annotations

import email.parser
import json
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from bot.sandbox import methods_chat, methods_conversations, methods_misc, methods_views
from bot.sandbox.faults import FaultRule, Faults, RateLimiter
from bot.sandbox.params import Args, Ctx, JsonDict, SlackError
from bot.sandbox.server import Request, Response
from bot.sandbox.state import CallRecord, Store

Method = Callable[[Store, Ctx], JsonDict]
BOT_METHODS: dict[str, Method] = {
    **methods_conversations.METHODS,
    **methods_chat.METHODS,
    **methods_views.METHODS,
    **methods_misc.METHODS,
}
APP_METHODS: dict[str, Method] = dict(methods_misc.APP_TOKEN_METHODS)
USER_TOKEN_PREFIX = "xoxp-sandbox-"  # noqa: S105 - fake tokens of the local sandbox


def parse_args(request: Request) -> dict[str, object]:
    """Query string, then a form, JSON or multipart body, as slack_sdk may send any of them."""
    args: dict[str, object] = dict(request.query)
    kind = request.header("content-type").split(";")[0].strip().lower()
    if not request.body:
        return args
    if kind == "application/json":
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SlackError("invalid_json") from exc
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {request.header('content-type')}\r\n\r\n".encode()
        message = email.parser.BytesParser().parsebytes(head + request.body)
        for part in message.walk():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes) and part.get_filename() is None:
                args[name] = payload.decode("utf-8", "replace")
    else:
        args.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    return args


class ApiEndpoint:
    """Serves `/api/<method>` for one store, with faults and optional rate limits applied."""

    def __init__(
        self,
        store: Store,
        faults: Faults,
        limiter: RateLimiter,
        stopping: threading.Event,
        *,
        bot_token: str,
        app_token: str,
    ) -> None:
        self.store = store
        self.faults = faults
        self.limiter = limiter
        self.stopping = stopping
        self.bot_token = bot_token
        self.app_token = app_token
        self.scopes: tuple[str, ...] | None = None  # set: said in X-OAuth-Scopes, as Slack does

    def handle(self, request: Request) -> Response:
        method = request.params["method"]
        started = time.monotonic()
        early: SlackError | None = None
        try:
            raw = parse_args(request)
        except SlackError as exc:
            raw, early = {}, exc
        token = str(raw.pop("token", "") or "")
        bearer = request.header("authorization")
        if bearer.lower().startswith("bearer "):
            token = bearer[7:].strip()
        call = self.store.start_call(method, raw)
        response = self._answer(call, method, token, Args(raw), early)
        call.duration = time.monotonic() - started
        return response

    def _answer(
        self, call: CallRecord, method: str, token: str, args: Args, early: SlackError | None
    ) -> Response:
        rule = self.faults.pick(method)
        if rule is not None and rule.when == "before":
            if rule.kind != "delay":
                return self._fault(call, rule, None)
            call.fault = f"delay#{rule.id}"
            self.stopping.wait(rule.hold_seconds())
            rule = None
        if rule is None:
            wait = self.limiter.check(method, args.opt("channel"))
            if wait is not None:
                call.status, call.error, call.fault = 429, "ratelimited", "rate_limit"
                return Response.of_json(
                    {"ok": False, "error": "ratelimited"}, status=429, **{"Retry-After": str(wait)}
                )
        try:
            if early is not None:
                raise early
            body = self._run(method, token, args)
        except SlackError as exc:
            body = exc.body()
        call.ok, call.error = bool(body.get("ok")), body.get("error")
        if rule is not None:
            return self._fault(call, rule, body)
        if self.scopes is not None and token == self.bot_token:
            answer = Response.of_json(body)
            answer.headers["X-OAuth-Scopes"] = ",".join(self.scopes)
            return answer
        return Response.of_json(body)

    def _run(self, method: str, token: str, args: Args) -> JsonDict:
        if method not in BOT_METHODS and method not in APP_METHODS:
            raise SlackError("unknown_method")
        if not token:
            raise SlackError("not_authed")
        if token == self.app_token:
            handler, actor = APP_METHODS.get(method), self.store.spec.bot.user_id
        elif token == self.bot_token:
            handler, actor = BOT_METHODS.get(method), self.store.spec.bot.user_id
        elif (
            token.startswith(USER_TOKEN_PREFIX)
            and token[len(USER_TOKEN_PREFIX) :] in self.store.users
        ):
            handler, actor = BOT_METHODS.get(method), token[len(USER_TOKEN_PREFIX) :]
        else:
            raise SlackError("invalid_auth")
        if handler is None:
            raise SlackError("not_allowed_token_type")
        with self.store.lock:
            return handler(self.store, Ctx(args=args, actor=actor))

    def _fault(self, call: CallRecord, rule: FaultRule, body: JsonDict | None) -> Response:
        call.fault = f"{rule.kind}#{rule.id}"
        if body is None:  # the call never ran; after-faults keep the real outcome in the log
            call.ok, call.error = False, f"fault_{rule.kind}"
        if rule.kind == "429":
            call.status = 429
            return Response.of_json(
                {"ok": False, "error": "ratelimited"},
                status=429,
                **{"Retry-After": str(rule.retry_after)},
            )
        if rule.kind in ("500", "503"):
            status = int(rule.kind)
            call.status = status
            return Response.of_json({"ok": False, "error": "service_unavailable"}, status=status)
        if rule.kind == "reset":
            call.status = 0
            return Response(drop=True)
        self.stopping.wait(rule.hold_seconds())
        if rule.kind == "timeout":
            call.status = 0
            return Response(drop=True)
        return Response.of_json(body or {"ok": False, "error": "internal_error"})
