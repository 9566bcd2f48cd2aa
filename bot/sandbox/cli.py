"""`tocsin sandbox`: serve the Slack Web API emulator and its page until Ctrl-C."""

from __future__ import annotations

import ipaddress
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bot.sandbox.emulator import Emulator
from bot.sandbox.workspace import WorkspaceError


def app_url_problem(app_url: str, allow_remote: bool) -> str | None:
    """Why the sandbox should not send signed requests to `app_url`; None when it may."""
    parts = urlsplit(app_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"--app-url {app_url!r} is not an http(s) URL like http://127.0.0.1:3000/slack/events"
        )
    if allow_remote or parts.hostname == "localhost":
        return None
    try:
        if ipaddress.ip_address(parts.hostname).is_loopback:
            return None
    except ValueError:
        pass  # a name other than localhost: it may point anywhere
    return (
        f"--app-url {app_url} is not on this machine, and the sandbox would send it requests "
        "signed with your signing secret; pass --allow-remote-app if that is what you want"
    )


def run_sandbox(
    port: int,
    workspace: Path | None = None,
    app_url: str | None = None,
    signing_secret: str | None = None,
    *,
    host: str = "127.0.0.1",
    allow_remote_app: bool = False,
) -> int:
    """Serve the emulator on `host:port` until interrupted; the process exit code.

    With `app_url` and `signing_secret` (the CLI reads it from SLACK_SIGNING_SECRET), what a
    person does on the page (slash commands, clicks, modal submissions) is sent to the bot at
    `app_url` as signed Slack requests; `app_url` must be on this machine unless
    `allow_remote_app`.
    """
    problem = None
    if app_url:
        problem = app_url_problem(app_url, allow_remote_app)
        if problem is None and not signing_secret:
            problem = (
                "--app-url needs the bot's signing secret in SLACK_SIGNING_SECRET "
                "(the bot verifies every request)"
            )
    if problem is not None:
        print(f"tocsin sandbox: {problem}", file=sys.stderr)
        return 2
    try:
        emulator = Emulator(
            workspace,
            host=host,
            port=port,
            app_url=app_url,
            signing_secret=signing_secret if app_url else None,
        )
    except WorkspaceError as exc:
        print(f"tocsin sandbox: {exc}", file=sys.stderr)
        return 2
    if app_url:  # the phones reply to the same app, at its Twilio route
        emulator.twilio.sms_url = urljoin(app_url, "/notify/twilio/sms")
    try:
        emulator.start()
    except OSError as exc:
        print(f"tocsin sandbox: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    print(f"Sandbox page at {emulator.root_url}", file=sys.stderr)
    print(f"Slack Web API emulator at {emulator.url}", file=sys.stderr)
    print(
        f"  token {emulator.bot_token}; inspection at {emulator.root_url}sandbox/calls",
        file=sys.stderr,
    )
    print(
        f"Mail server (the page's mailboxes) at {emulator.mailbox.url}: TOCSIN_SMTP_URL",
        file=sys.stderr,
    )
    twilio = emulator.twilio.env(emulator.root_url)
    print(
        f"Twilio API emulator at {twilio['TOCSIN_TWILIO_API_URL']} (account "
        f"{twilio['TOCSIN_TWILIO_ACCOUNT_SID']}, number {twilio['TOCSIN_TWILIO_FROM']}); "
        f"phones at {emulator.root_url}twilio/sandbox/phones",
        file=sys.stderr,
    )
    if app_url:
        print(f"  the page's actions go to the app at {app_url}", file=sys.stderr)
    else:
        print(
            "  no app URL given: the page can post messages but not run commands", file=sys.stderr
        )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("tocsin sandbox: stopping", file=sys.stderr)
    finally:
        emulator.stop()
    return 0
