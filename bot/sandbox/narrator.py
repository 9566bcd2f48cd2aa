"""Print the sandbox's transcript as it happens: Slack channels, threads and DMs, and the SMS
the sandbox's phones get and send (named by whose phone it is, when `phones` says)."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TextIO

from bot.sandbox.emulator import Emulator

_MENTION = re.compile(r"<@(U[A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#(C[A-Z0-9]+)(?:\|[^>]*)?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")


class Narrator(threading.Thread):
    def __init__(
        self,
        emulator: Emulator,
        out: TextIO = sys.stdout,
        every: float = 0.3,
        phones: Mapping[str, str] = MappingProxyType({}),  # number -> Slack user id
    ) -> None:
        super().__init__(name="narrator", daemon=True)
        self.emulator, self.out, self.every = emulator, out, every
        self.phones = dict(phones)
        self.seen: set[str] = set()
        self.stopping = threading.Event()
        workspace = emulator.workspace()
        self.names: dict[str, str] = {u["id"]: u["name"] for u in workspace.get("users", [])}
        self.names[workspace.get("bot", {}).get("user_id", "")] = "tocsin"

    def readable(self, text: str) -> str:
        text = _MENTION.sub(lambda m: "@" + str(self.names.get(m.group(1), m.group(1))), text)
        text = _DATE.sub(lambda m: m.group(1), text)
        text = _CHANNEL.sub(lambda m: "#" + self.channel_name(m.group(1)), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def channel_name(self, channel_id: str) -> str:
        for c in self.emulator.channels(include_ims=True):
            if c["id"] == channel_id:
                return str(c["name"])
        return channel_id

    def where(self, channel: dict[str, Any]) -> str:
        if channel.get("is_im"):
            others = [m for m in channel["members"] if self.names.get(m) != "tocsin"]
            return "DM @" + (self.names.get(others[0], others[0]) if others else "?")
        return "#" + str(channel["name"])

    def show(self, where: str, message: dict[str, Any], reply: bool) -> None:
        who = self.names.get(message.get("user", ""), message.get("user", "?"))
        first, *rest = self.readable(str(message.get("text", ""))).splitlines() or [""]
        stamp = time.strftime("%H:%M:%S", time.localtime(float(message["ts"])))
        self._line(stamp, where, who, first, rest, reply)

    def _line(
        self, stamp: str, where: str, who: str, first: str, rest: list[str], reply: bool
    ) -> None:
        arrow = "  ↳ " if reply else ""
        print(f"{stamp}  {where:<34} {arrow}{who}: {first[:150]}", file=self.out)
        for line in rest[:8]:  # a handoff summary runs to 8 lines
            print(f"{'':10}{'':<34} {'    ' if reply else ''}{line[:150]}", file=self.out)
        self.out.flush()

    def poll(self) -> None:
        for channel in self.emulator.channels(include_ims=True):
            where = self.where(channel)
            for message in self.emulator.transcript(channel["id"]):
                for item, reply in [(message, False)] + [
                    (r, True) for r in message.get("replies", [])
                ]:
                    key = f"{channel['id']}/{item['ts']}"
                    if key not in self.seen:
                        self.seen.add(key)
                        self.show(where, item, reply)
        self.poll_phones()

    def phone_name(self, number: str) -> str:
        user = self.phones.get(number)
        return "@" + self.names.get(user, user) if user else number

    def poll_phones(self) -> None:
        """Each SMS a phone got (from tocsin) or sent (from its owner), once."""
        for number, inbox in self.emulator.twilio.phones().items():
            owner = self.phone_name(number)
            for sms in inbox["sms"]:
                if sms["sid"] in self.seen:
                    continue
                self.seen.add(sms["sid"])
                who = owner.removeprefix("@") if sms["direction"] == "inbound" else "tocsin"
                stamp = time.strftime("%H:%M:%S")
                self._line(stamp, f"SMS {owner}", who, " ".join(sms["body"].split()), [], False)

    def run(self) -> None:
        while not self.stopping.is_set():
            self.poll()
            self.stopping.wait(self.every)

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)
        self.poll()
