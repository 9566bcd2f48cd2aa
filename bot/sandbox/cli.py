"""`tocsin sandbox`: serve the Slack Web API emulator and its page until Ctrl-C."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from bot.sandbox.emulator import Emulator
from bot.sandbox.workspace import WorkspaceError


def run_sandbox(
    port: int,
    workspace: Path | None = None,
    app_url: str | None = None,
    signing_secret: str | None = None,
    *,
    host: str = "127.0.0.1",
) -> int:
    """Serve the emulator on `host:port` until interrupted; the process exit code.

    With `app_url` and `signing_secret`, what a person does on the page (slash commands,
    clicks, modal submissions) is sent to the bot at `app_url` as signed Slack requests.
    """
    if bool(app_url) != bool(signing_secret):
        print(
            "tocsin sandbox: give both the app's request URL and its signing secret "
            "(the bot verifies every request), or neither",
            file=sys.stderr,
        )
        return 2
    try:
        emulator = Emulator(
            workspace, host=host, port=port, app_url=app_url, signing_secret=signing_secret
        )
    except WorkspaceError as exc:
        print(f"tocsin sandbox: {exc}", file=sys.stderr)
        return 2
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
