"""Fixtures for the Web API emulator tests: a started emulator and a real WebClient on it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.sandbox.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator with the bundled workspace, stopped after the test."""
    with Emulator() as emu:
        yield emu
        assert emu.server_errors == [], "the emulator raised while answering"


@pytest.fixture
def client(emulator: Emulator) -> WebClient:
    """A real slack_sdk WebClient with the bot token, no retry handlers."""
    return WebClient(token=emulator.bot_token, base_url=emulator.url, timeout=5)


class Admin:
    """JSON over HTTP against the emulator's `/sandbox/...` endpoints, as another process would."""

    def __init__(self, root_url: str) -> None:
        self.root_url = root_url

    def __call__(self, path: str, body: Any = None, method: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the emulator's own http:// URL
            self.root_url + path.lstrip("/"),
            data=data,
            method=method or ("POST" if data is not None else "GET"),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return json.loads(response.read())


@pytest.fixture
def admin(emulator: Emulator) -> Admin:
    return Admin(emulator.root_url)
