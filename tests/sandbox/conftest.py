"""Fixtures for the Web API emulator tests: a started emulator and a real WebClient on it."""

from __future__ import annotations

from collections.abc import Iterator

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
