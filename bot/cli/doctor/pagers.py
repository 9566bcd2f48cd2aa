"""The pagers off Slack present in the environment: each one's endpoint and credentials.

On this version they are the watchdog's webhooks (TOCSIN_WATCHDOG_URLS, signed with
TOCSIN_WATCHDOG_SECRET) and the outgoing heartbeat (TOCSIN_HEARTBEAT_URL); the watchdog's
Slack channel (TOCSIN_WATCHDOG_CHANNEL) is checked here too, as the bot's to post in. A webhook has
no validation endpoint, and a request to it could page somebody (or, for the heartbeat, tell
a dead man's switch that all is well): the check opens a connection (and the TLS handshake,
certificate verified) and sends nothing. A provider with a validation endpoint (PagerDuty,
Twilio) gets a check function of its own in `run.CHECKS` (`providers.py`).
"""

from __future__ import annotations

import socket
import ssl
import urllib.parse
from collections.abc import Iterator

from bot.cli.doctor.checkup import Checkup, Line, fail, ok, warn
from bot.notify.http import host_of
from bot.redaction import redact_text
from bot.slack_api.client import slack_client

TIMEOUT_S = 5.0


def reach(url: str) -> str | None:
    """Why `url`'s host cannot be reached (DNS, TCP, TLS), or None when it can."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 80)
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
            if tls:
                with ssl.create_default_context().wrap_socket(sock, server_hostname=host):
                    pass
    except (OSError, ValueError) as exc:
        return redact_text(f"{type(exc).__name__}: {exc}")
    return None


def where(url: str) -> str:
    """The URL shown: scheme, host and port, never its path or query (a key may be there)."""
    port = urllib.parse.urlsplit(url).port
    return host_of(url) + (f":{port}" if port else "")


def check_watchdog_webhooks(c: Checkup) -> Iterator[Line]:
    urls = c.settings.watchdog_urls  # with its secret: Settings refuses them without one
    if not urls:
        yield warn(
            "watchdog pager",
            "TOCSIN_WATCHDOG_URLS is not set: nobody is paged when the workers are gone",
            "set it to a webhook that pages outside Tocsin (see README, Who watches the watcher)",
        )
        return
    for n, url in enumerate(urls, 1):
        name = f"watchdog pager {n}"
        why = reach(url)
        if why is None:
            yield ok(name, f"{where(url)} reachable (a webhook has no key check; none sent)")
        else:
            yield fail(name, f"{where(url)}: {why}", "check TOCSIN_WATCHDOG_URLS and the network")


def check_watchdog_channel(c: Checkup) -> Iterator[Line]:
    """TOCSIN_WATCHDOG_CHANNEL: a channel the bot can read and post in."""
    channel = c.settings.watchdog_channel
    if not channel or c.auth is None or c.auth.error is not None:
        return  # unset, or the token line says why it cannot be looked at
    fix = f"invite the bot to {channel} (/invite @tocsin there), or fix TOCSIN_WATCHDOG_CHANNEL"
    try:
        info = slack_client(c.settings).conversations_info(channel=channel)["channel"]
    except Exception as exc:  # SlackApiError (channel_not_found, …) or the network
        data = getattr(getattr(exc, "response", None), "data", None)
        why = data.get("error") if isinstance(data, dict) else redact_text(str(exc))
        yield fail("watchdog channel", f"conversations.info refused {channel}: {why}", fix)
        return
    if not info.get("is_member"):
        yield fail("watchdog channel", f"the bot is not in #{info.get('name', channel)}", fix)
    else:
        yield ok("watchdog channel", f"the bot is in #{info.get('name', channel)}")


def check_heartbeat_url(c: Checkup) -> Iterator[Line]:
    url = c.settings.heartbeat_url
    if not url:
        return
    why = reach(url)
    if why is None:
        yield ok("heartbeat", f"{where(url)} reachable (not pinged: only a healthy worker pings)")
    else:
        yield fail("heartbeat", f"{where(url)}: {why}", "check TOCSIN_HEARTBEAT_URL")
