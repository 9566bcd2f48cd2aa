"""The `apprise` method: a page to any service Apprise speaks (ntfy, Pushover, Telegram, …).

A rule names it with the service's Apprise URL: `via: "apprise:ntfys://ntfy.example.com/alice"`;
`send` gets the URL itself (after `apprise:`). See https://github.com/caronc/apprise/wiki for
the URL of each service.

It is one-way: nothing comes back to acknowledge with, and no service Apprise drives can be
asked whether a notice already arrived, so `find` always says None. Exactly once therefore
means: at most one send per attempt the outbox records. A worker killed after the service
took the notice but before the outbox marked it sent sends it again on the retry; the person
may then see the page twice. (Slack's and Twilio's methods can look for an earlier send;
this one cannot.)

Failures: an address Apprise cannot parse is `Undeliverable` (it never will be sent, so the
person's next method starts at once); a send Apprise reports failed (the service down,
refusing, unreachable) is a `DeliveryError`, retried with backoff. Apprise does not say which
of those a refusal was, so a service that refuses for good is retried until the outbox gives
up.

An Apprise URL often carries the service's token (Telegram's bot token, a webhook's key), so
no message here repeats it, only its scheme. Apprise's own log lines would: an unparseable URL
is logged whole, and at debug level every URL and payload (which holds the page's acknowledge
link). Its logger is therefore kept to critical messages; the errors raised here say what
failed, by scheme.
"""

from __future__ import annotations

import logging

import apprise

from bot.notify import Notice
from bot.paging import DeliveryError, Undeliverable


def scheme(address: str) -> str:
    """The service part of an Apprise URL (`ntfys`), safe to log: never its token."""
    head, sep, _ = address.partition("://")
    return head if sep and head.isascii() and head.replace("+", "").isalnum() else "unknown"


def text(notice: Notice) -> tuple[str, str]:
    """The notification's title and body, plain text."""
    title = f"{notice.severity.upper()} {notice.incident_id} · {notice.title}"
    lines = [notice.summary, f"Service: {notice.service}"]
    if notice.ack_url:
        lines.append(f"Acknowledge: {notice.ack_url}")
    return title, "\n".join(lines)


class AppriseMethod:
    name = "apprise"

    def __init__(self) -> None:
        logging.getLogger("apprise").setLevel(logging.CRITICAL)  # see above

    def send(self, notice: Notice, address: str) -> str:
        service = scheme(address)
        hub = apprise.Apprise()
        if not hub.add(address):
            raise Undeliverable("bad_apprise_url", f"Apprise cannot use this {service}:// URL")
        title, body = text(notice)
        sent = hub.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
        if not sent:
            raise DeliveryError(f"Apprise could not deliver to {service}://")
        return f"apprise:{service}"

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        """Always None: no service Apprise drives can say what it was sent (see above)."""
        return None
