"""The sandbox's PagerDuty on a server of its own, for tests that need only it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.sandbox.pagerduty import PagerDutyEmulator
from bot.sandbox.server import Router, SandboxHTTPServer

KEY = "a" * 32  # an integration key the emulator knows
OTHER_KEY = "b" * 32  # well formed, but PagerDuty has no integration with it


@contextmanager
def running_pagerduty(**options: object) -> Iterator[tuple[PagerDutyEmulator, str]]:
    """The emulator (knowing KEY) and its Events API base URL."""
    emulator = PagerDutyEmulator(routing_keys={KEY}, **options)  # type: ignore[arg-type]
    router = Router()
    emulator.register(router)
    server = SandboxHTTPServer("127.0.0.1", 0, router)
    server.start_background()
    try:
        yield emulator, f"http://127.0.0.1:{server.server_address[1]}/pagerduty"
    finally:
        server.stop()
