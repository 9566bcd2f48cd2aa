"""The watchdog's announcements survive a SIGKILL between Slack posting them and the record.

Real `tocsin web` app objects in child processes (the watchdog thread gunicorn starts),
the Slack emulator over HTTP answering chat.postMessage 2.5 s after it posted, a real
webhook receiver, and the signs of life a worker leaves (an rq worker's heartbeat, the
scheduler lease). Each announcement's sender is SIGKILLed as soon as its post shows in the
channel: the process taking over must find the post, not post again, and "recovered" must
still go out.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import redis
from rq import Worker

from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.state.keys import SCHEDULER_LEASE
from bot.state.leases import Leases
from bot.state.once import SendLedger
from bot.state.watchdog import SENDING, SENDS, WatchdogState
from tests.e2e.support import ROOT, wait_for
from tests.integration.support import watchdog_posts
from tests.receiver import Receiver

CHANNEL = "C0INCIDENTS"
START_WATCHDOG = (
    "from bot.config.settings import Settings; from bot.web import make_wsgi; "
    "make_wsgi(Settings.from_env()).start_watchdog().join()"
)


class Webs:
    """`tocsin web`'s watchdog, one child process at a time, SIGKILLed by the test."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir, self.procs = env, log_dir, list[subprocess.Popen[bytes]]()

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"web-{len(self.procs)}.log", "ab")  # noqa: SIM115 - the child's
        proc = subprocess.Popen(
            [sys.executable, "-c", START_WATCHDOG], env=self.env, stdout=log, stderr=log, cwd=ROOT
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def kill_sender(r: redis.Redis, webs: Webs) -> subprocess.Popen[bytes]:
    """SIGKILL the web process holding the sending lease (its owner is `host:pid`)."""
    holder = r.get(SENDING)
    assert holder is not None, "nobody holds the sending lease"
    pid = int(str(holder).rsplit(":", 1)[1])
    (proc,) = [p for p in webs.procs if p.pid == pid]
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    return proc


def alive(runtime: Runtime) -> None:
    """The signs of life a worker leaves: an rq worker's heartbeat, the scheduler lease."""
    worker = Worker([runtime.queue], connection=runtime.rq_redis, name="watchdog-kills")
    worker.register_birth()
    worker.heartbeat()
    Leases(runtime.r).hold(SCHEDULER_LEASE, "watchdog-kills", 60)


def test_a_sigkill_between_post_and_record_neither_doubles_nor_loses_an_announcement(
    worker_env: dict[str, str],
    runtime: Runtime,
    r: redis.Redis,
    emulator: Emulator,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    """No worker: of three web processes, the one sending "down" is killed before Slack
    answers (its attempt is recorded, its send is not); another takes over and finds the
    post. A worker shows up: the one sending "recovered" is killed the same way; the last
    finds it. The channel and the webhook each got "down" once and "recovered"
    once, in that order."""
    env = worker_env | {
        "TOCSIN_PAGER": "slack",
        "SLACK_API_URL": emulator.url,
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_SIGNING_SECRET": "watchdog-kills",
        "TOCSIN_WATCHDOG_AFTER_S": "1",
        "TOCSIN_WATCHDOG_URLS": receiver.url + "/page",
        "TOCSIN_WATCHDOG_SECRET": "watchdog-secret-0123456789",
        "TOCSIN_WATCHDOG_CHANNEL": CHANNEL,
    }
    state, ledger = WatchdogState(r), SendLedger(r, SENDS)
    destination = f"slack:{CHANNEL}"
    webs = Webs(env, tmp_path)
    try:
        # Slack posts, then answers 2.5 s later: the window each kill lands in (with room for a
        # loaded machine to notice the post first).
        emulator.faults.add("delay", method="chat.postMessage", delay=2.5, when="after")
        webs.start(), webs.start(), webs.start()  # the third for after the second kill
        wait_for(lambda: len(watchdog_posts(emulator, CHANNEL)) == 1, timeout=30)
        kill_sender(r, webs)
        (down,) = watchdog_posts(emulator, CHANNEL)
        assert (ledger.state(f"{down}|{destination}") or "").startswith("attempt:")

        wait_for(lambda: not state.owed(), timeout=30)  # the survivor found the post
        assert watchdog_posts(emulator, CHANNEL) == [down]
        alive(runtime)
        wait_for(lambda: len(watchdog_posts(emulator, CHANNEL)) == 2, timeout=30)
        kill_sender(r, webs)
        recovered = watchdog_posts(emulator, CHANNEL)[1]
        assert recovered.startswith("recovered:")
        assert (ledger.state(f"{recovered}|{destination}") or "").startswith("attempt:")

        wait_for(lambda: not state.owed(), timeout=30)
        assert watchdog_posts(emulator, CHANNEL) == [down, recovered]
        bodies = [json.loads(x.body) for x in receiver.requests]
        assert [(b["id"], b["event"]) for b in bodies] == [
            (down, "tocsin.down"),
            (recovered, "tocsin.recovered"),
        ]
        lookups = emulator.calls("conversations.history")
        assert len(lookups) >= 2  # each takeover asked Slack before it would post again
    finally:
        webs.stop()
