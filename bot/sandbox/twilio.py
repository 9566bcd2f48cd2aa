"""A local Twilio REST API (Messages and Calls) and the phones it reaches.

Mounted on the sandbox server under /twilio, so a client whose base URL is
`<sandbox>/twilio` (TOCSIN_TWILIO_API_URL) talks to it as to api.twilio.com:

    POST /twilio/2010-04-01/Accounts/{Sid}/Messages.json   create (To, From, Body)
    GET  /twilio/2010-04-01/Accounts/{Sid}/Messages.json   list (To, From, DateSent[<>])
    POST /twilio/2010-04-01/Accounts/{Sid}/Calls.json      create (To, From, Url or Twiml)
    GET  /twilio/2010-04-01/Accounts/{Sid}/Calls.json      list (To, From, StartTime[<>])

HTTP basic auth with the account SID and auth token is checked; errors have Twilio's body
({code, message, more_info, status}). Faults are injected as on the Slack side (faults.py),
by method name: "messages.create", "messages.list", "calls.create", "calls.list".

Each phone number has an inbox (the SMS and calls it received). From a phone one can reply
by SMS (`reply`) or answer a call and press a key (`press`): the app hears of it as Twilio's
signed webhooks (twilio_phones). Everything is also JSON under /twilio/sandbox/....
"""

from __future__ import annotations

import threading
from base64 import b64decode
from collections import deque
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bot.sandbox import twilio_phones as handset
from bot.sandbox.faults import FaultError, FaultRule, Faults
from bot.sandbox.server import Request, Response, Router
from bot.sandbox.twilio_resources import (
    API,
    INVALID,
    NOT_MOBILE,
    Call,
    JsonDict,
    Sms,
    is_e164,
    matches,
)

PREFIX = "/twilio"
ACCOUNT_SID = "AC" + "5a" * 16  # the sandbox's account: fake credentials
AUTH_TOKEN = "sandbox-twilio-auth-token"  # noqa: S105
NUMBER = "+15005550006"  # Twilio's magic "valid From" test number
LOG_KEEP = 500
ERRORS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service Unavailable",
    21205: "Url parameter is required.",
    21211: "The 'To' number {to} is not a valid phone number.",
    21217: "Phone number does not appear to be valid",
    21604: "A 'To' phone number is required.",
    21614: "'To' number {to} is not a valid mobile number",
}


class TwilioError(Exception):
    def __init__(self, status: int, code: int, **words: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code
        self.message = ERRORS[code].format(**words)

    def response(self, **headers: str) -> Response:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        return Response.of_json(body, status=self.status, **headers)


class TwilioEmulator:
    def __init__(
        self,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        number: str = NUMBER,
        stopping: threading.Event | None = None,  # set: a held (timeout) fault lets go
    ) -> None:
        self.account_sid, self.auth_token, self.number = account_sid, auth_token, number
        self.faults = Faults()
        self.lock = threading.Lock()
        self.sms: list[Sms] = []
        self.calls: list[Call] = []
        self.log: deque[JsonDict] = deque(maxlen=LOG_KEEP)  # the REST calls, as received
        self.sms_url: str | None = None  # the app's inbound SMS webhook (its /notify/twilio/sms)
        self.stopping = stopping or threading.Event()

    def env(self, root_url: str) -> dict[str, str]:
        """The app's environment for this account, the emulator being at `root_url`."""
        return {
            "TOCSIN_TWILIO_ACCOUNT_SID": self.account_sid,
            "TOCSIN_TWILIO_AUTH_TOKEN": self.auth_token,
            "TOCSIN_TWILIO_FROM": self.number,
            "TOCSIN_TWILIO_API_URL": root_url.rstrip("/") + PREFIX,
        }

    def register(self, router: Router) -> None:
        account = rf"{PREFIX}/{API}/Accounts/(?P<sid>[A-Za-z0-9]+)"
        router.add("*", account + r"/Messages\.json", self._messages)
        router.add("*", account + r"/Calls\.json", self._calls)
        router.add("GET", PREFIX + "/sandbox/phones", lambda r: Response.of_json(self.phones()))
        router.add("GET", PREFIX + "/sandbox/calls", lambda r: Response.of_json(list(self.log)))
        router.add("POST", PREFIX + "/sandbox/reply", self._reply_route)
        router.add("POST", PREFIX + "/sandbox/press", self._press_route)
        router.add("*", PREFIX + "/sandbox/faults", self._faults_route)

    # the REST API ---------------------------------------------------------------------

    def _messages(self, request: Request) -> Response:
        return self._serve(request, "messages", self._create_sms, self._list_sms)

    def _calls(self, request: Request) -> Response:
        return self._serve(request, "calls", self._create_call, self._list_calls)

    def _serve(self, request: Request, kind: str, create: Any, listing: Any) -> Response:
        try:
            self._authenticate(request)
            verb = "create" if request.verb == "POST" else "list"
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
            self.log.append({"method": f"{kind}.{verb}", "form": form, "query": request.query})
            rule = self.faults.pick(f"{kind}.{verb}")
            if rule is not None and rule.when == "before":
                if rule.kind != "delay":
                    return self._fault(rule)
                self.stopping.wait(rule.hold_seconds())
                rule = None
            if request.verb == "POST":
                answer = Response.of_json(create(form), status=201)
            else:
                answer = Response.of_json(listing(request))
            if rule is not None and rule.kind == "delay":
                self.stopping.wait(rule.hold_seconds())
                return answer
            return self._fault(rule) if rule is not None else answer
        except TwilioError as error:
            return error.response()

    def _authenticate(self, request: Request) -> None:
        given = request.header("authorization")
        try:
            user, _, password = b64decode(given.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            user, password = "", ""
        if (user, password) != (self.account_sid, self.auth_token):
            raise TwilioError(401, 20003)
        if request.params["sid"] != self.account_sid:
            raise TwilioError(404, 20404)

    def _fault(self, rule: FaultRule) -> Response:
        if rule.kind == "429":
            return TwilioError(429, 20429).response(**{"Retry-After": str(rule.retry_after)})
        if rule.kind in ("500", "503"):
            return TwilioError(int(rule.kind), 20000 + int(rule.kind)).response()
        if rule.kind == "timeout":
            self.stopping.wait(rule.hold_seconds())
        return Response(drop=True)  # reset at once, timeout after holding the connection

    def _create_sms(self, form: dict[str, str]) -> JsonDict:
        to = form.get("To", "")
        if not to:
            raise TwilioError(400, 21604)
        if to == INVALID or not is_e164(to):
            raise TwilioError(400, 21211, to=to)
        if to == NOT_MOBILE:
            raise TwilioError(400, 21614, to=to)
        sms = Sms(self.account_sid, to, form.get("From", self.number), form.get("Body", ""))
        with self.lock:
            self.sms.append(sms)
        return sms.resource()

    def _create_call(self, form: dict[str, str]) -> JsonDict:
        to = form.get("To", "")
        if not to:
            raise TwilioError(400, 21604)
        if to == INVALID or not is_e164(to):
            raise TwilioError(400, 21217)
        if not form.get("Twiml") and not form.get("Url"):
            raise TwilioError(400, 21205)
        call = Call(self.account_sid, to, form.get("From", ""), form.get("Twiml"), form.get("Url"))
        with self.lock:
            self.calls.append(call)
        return call.resource()

    def _list_sms(self, request: Request) -> JsonDict:
        with self.lock:
            found = [m.resource() for m in reversed(self.sms)]
        found = [m for m in found if matches(m, request.query, "date_sent", "DateSent")]
        return self._page(request, "Messages", "messages", found)

    def _list_calls(self, request: Request) -> JsonDict:
        with self.lock:
            found = [c.resource() for c in reversed(self.calls)]
        found = [c for c in found if matches(c, request.query, "start_time", "StartTime")]
        return self._page(request, "Calls", "calls", found)

    def _page(self, request: Request, name: str, key: str, found: list[JsonDict]) -> JsonDict:
        """One page of `found` (newest first), as Twilio pages a list: `PageSize` (at most
        1000) and `Page`; `next_page_uri` carries the same filters to the next page."""
        size = max(1, min(1000, int(request.query.get("PageSize") or 50)))
        number = max(0, int(request.query.get("Page") or 0))
        start = number * size
        shown = found[start : start + size]

        def uri(page: int) -> str:
            query = {k: v for k, v in request.query.items() if k not in ("Page", "PageSize")}
            query.update(PageSize=str(size), Page=str(page))
            return f"/{API}/Accounts/{self.account_sid}/{name}.json?{urlencode(query)}"

        return {
            key: shown,
            "end": start + len(shown) - 1 if shown else start,
            "first_page_uri": uri(0),
            "next_page_uri": uri(number + 1) if start + size < len(found) else None,
            "page": number,
            "page_size": size,
            "previous_page_uri": uri(number - 1) if number > 0 else None,
            "start": start,
            "uri": uri(number),
        }

    # the phones ---------------------------------------------------------------------

    def phones(self) -> dict[str, JsonDict]:
        """Each number's inbox: the SMS it sent and received, the calls it received."""
        out: dict[str, JsonDict] = {}
        with self.lock:
            for sms in self.sms:
                phone = sms.to if sms.direction != "inbound" else sms.from_
                out.setdefault(phone, {"sms": [], "calls": []})["sms"].append(sms.resource())
            for call in self.calls:
                said = {"said": handset.spoken(call.twiml or ""), "digits": call.digits}
                out.setdefault(call.to, {"sms": [], "calls": []})["calls"].append(
                    call.resource() | said
                )
        return out

    def reply(self, phone: str, body: str, *, forge: bool = False) -> JsonDict:
        """`phone` texts `body` to the account's number: the app's SMS webhook hears of it,
        signed (wrongly when `forge`), and what its TwiML answers lands in the phone's inbox."""
        if not self.sms_url:
            return {"ok": False, "error": "no app SMS webhook URL is set"}
        sms = Sms(self.account_sid, self.number, phone, body, "inbound", "received")
        with self.lock:
            self.sms.append(sms)
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API,
            "Body": body,
            "From": phone,
            "MessageSid": sms.sid,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsMessageSid": sms.sid,
            "SmsSid": sms.sid,
            "SmsStatus": "received",
            "To": self.number,
        }
        status, text = handset.post_signed(self.auth_token, self.sms_url, params, forge)
        answers = handset.messages(text) if status == 200 else []
        with self.lock:
            self.sms += [
                Sms(self.account_sid, phone, self.number, a, "outbound-reply") for a in answers
            ]
        return {"ok": status == 200, "http": status, "answers": answers}

    def press(self, call_sid: str, digits: str, *, forge: bool = False) -> JsonDict:
        """The phone answers call `call_sid` (fetching its TwiML from its Url if it has no
        inline TwiML) and presses `digits`: the <Gather> action hears of it, signed."""
        with self.lock:
            call = next((c for c in self.calls if c.sid == call_sid), None)
        if call is None:
            return {"ok": False, "error": f"no call {call_sid}"}
        if call.status == "queued" and handset.answer(self.auth_token, call, forge) is None:
            return {"ok": False, "error": "the app gave the call no TwiML"}
        status, text = handset.press(self.auth_token, call, digits, forge)
        if status == 0:
            return {"ok": False, "error": text}
        return {
            "ok": status == 200,
            "http": status,
            "said": handset.spoken(text) if status == 200 else [],
        }

    def _reply_route(self, request: Request) -> Response:
        body = request.json()
        return Response.of_json(self.reply(str(body.get("phone", "")), str(body.get("body", ""))))

    def _press_route(self, request: Request) -> Response:
        body = request.json()
        return Response.of_json(self.press(str(body.get("call", "")), str(body.get("digits", ""))))

    def _faults_route(self, request: Request) -> Response:
        if request.verb == "DELETE":
            self.faults.clear(request.query.get("method"))
        elif request.verb == "POST":
            try:
                self.faults.add(**request.json())
            except (FaultError, TypeError) as exc:
                return Response.of_json({"ok": False, "error": str(exc)}, status=400)
        return Response.of_json({"ok": True, "faults": self.faults.snapshot()})
