"""The Twilio emulator's records: Message and Call resources, shaped as Twilio's REST API
v2010 returns them, and the filters its list endpoints take.

Fields, types and formats follow Twilio's published OpenAPI description (twilio/twilio-oai,
spec/json/twilio_api_v2010.json; tests/contract checks them against an extract of it).
Dates are RFC 2822 in GMT, as Twilio writes them; money fields stay null (nothing is billed).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

API = "2010-04-01"
JsonDict = dict[str, Any]
# Twilio's magic test numbers (twilio.com/docs/iam/test-credentials): as a To, these fail.
INVALID = "+15005550001"  # 21211 / 21217: not a valid phone number
NOT_MOBILE = "+15005550009"  # 21614: not a mobile number, cannot take SMS


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


def parse_when(value: str) -> datetime | None:
    """A list filter's date: YYYY-MM-DD (a GMT day) or YYYY-MM-DDTHH:MM:SSZ; None if neither."""
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def is_e164(number: str) -> bool:
    return number.startswith("+") and number[1:].isdigit() and 8 <= len(number) <= 16


@dataclass
class Sms:
    account: str
    to: str
    from_: str
    body: str
    direction: str = "outbound-api"  # or "inbound": a phone's reply to the account's number
    status: str = "sent"
    sid: str = field(default_factory=lambda: sid("SM"))
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def resource(self) -> JsonDict:
        when = rfc2822(self.created)
        return {
            "account_sid": self.account,
            "api_version": API,
            "body": self.body,
            "date_created": when,
            "date_sent": when,
            "date_updated": when,
            "direction": self.direction,
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(self.body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"/{API}/Accounts/{self.account}/Messages/{self.sid}/Media.json"
            },
            "to": self.to,
            "uri": f"/{API}/Accounts/{self.account}/Messages/{self.sid}.json",
        }


@dataclass
class Call:
    account: str
    to: str
    from_: str
    twiml: str | None  # given inline (Twiml), or fetched from `url` when the phone answers
    url: str | None = None
    status: str = "queued"
    digits: str = ""  # the keys the phone pressed
    sid: str = field(default_factory=lambda: sid("CA"))
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: datetime | None = None
    ended: datetime | None = None

    def resource(self) -> JsonDict:
        base = f"/{API}/Accounts/{self.account}/Calls/{self.sid}"
        duration = (
            int((self.ended - self.started).total_seconds())
            if self.ended and self.started
            else None
        )
        return {
            "account_sid": self.account,
            "answered_by": None,
            "api_version": API,
            "caller_name": None,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.ended or self.started or self.created),
            "direction": "outbound-api",
            "duration": str(duration) if duration is not None else None,
            "end_time": rfc2822(self.ended),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.started),
            "status": self.status,
            "subresource_uris": {"notifications": f"{base}/Notifications.json"},
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{base}.json",
        }


def matches(resource: JsonDict, query: dict[str, str], date_field: str, name: str) -> bool:
    """Whether `resource` passes a list's filters: To, From, and `name`, `name<`, `name>` on
    the GMT day of `date_field` (Twilio compares these filters by day when given a date)."""
    for key, wanted in (("to", query.get("To")), ("from", query.get("From"))):
        if wanted and resource[key] != wanted:
            return False
    stamp = resource.get(date_field)
    for suffix, test in (("", _same), ("<", _before), (">", _after)):
        given = query.get(name + suffix)
        if not given:
            continue
        bound = parse_when(given)
        if bound is None or stamp is None:
            return False
        if not test(_parse_rfc2822(stamp), bound, len(given) == 10):
            return False
    return True


def _parse_rfc2822(text: str) -> datetime:
    return datetime.strptime(text, "%a, %d %b %Y %H:%M:%S %z")


def _same(moment: datetime, bound: datetime, day: bool) -> bool:
    return moment.date() == bound.date() if day else moment == bound


def _before(moment: datetime, bound: datetime, day: bool) -> bool:
    return moment.date() <= bound.date() if day else moment <= bound


def _after(moment: datetime, bound: datetime, day: bool) -> bool:
    return moment.date() >= bound.date() if day else moment >= bound
