"""`tocsin sandbox`: serve the Slack Web API emulator until Ctrl-C."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from bot.sandbox.emulator import Emulator
from bot.sandbox.workspace import WorkspaceError


def run_sandbox(port: int, workspace: Path | None = None, *, host: str = "127.0.0.1") -> int:
    """Serve the emulator on `host:port` until interrupted; the process exit code."""
    try:
        emulator = Emulator(workspace, host=host, port=port)
    except WorkspaceError as exc:
        print(f"tocsin sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except OSError as exc:
        print(f"tocsin sandbox: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    print(f"Slack Web API emulator at {emulator.url}", file=sys.stderr)
    print(
        f"  token {emulator.bot_token}; inspection at {emulator.root_url}sandbox/calls",
        file=sys.stderr,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("tocsin sandbox: stopping", file=sys.stderr)
    finally:
        emulator.stop()
    return 0
