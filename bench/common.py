"""Shared plumbing for the benchmarks: processes that always get cleaned up, stats, verdicts.

Every benchmark builds its world inside one `contextlib.ExitStack` (an embedded Valkey, the
Slack emulator, `tocsin web` / `tocsin worker` processes), so a failure or Ctrl-C still stops
everything it started. Figures are printed as plain tables; the last line printed is the
key ratio or figure, and the exit code is 1 when a target is missed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bot.sandbox.bridge import payload_workspace
from bot.sandbox.driver import Driver
from bot.sandbox.emulator import BOT_TOKEN
from bot.sandbox.ports import free_port
from bot.sandbox.stack import wait_for as _wait_for
from bot.sandbox.workspace import load_workspace
from bot.state.server import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"  # noqa: S105 - a local benchmark's fake secret
WORKSPACE = ROOT / "bot" / "sandbox" / "workspace.yaml"


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.05) -> Any:
    """The project's poller (bot.sandbox.stack), with the benchmarks' longer default timeout."""
    return _wait_for(predicate, timeout, every)


# --- statistics -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank, of a non-empty sequence."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into docs/BENCHMARKS.md)."""
    cells = [[str(c) for c in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    mem = ""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}){mem}, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def header(title: str, argv: Sequence[str]) -> None:
    print(f"# {title}")
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"command: {' '.join(argv)}")
    print()


@dataclass
class Verdicts:
    """Targets checked by one benchmark; `exit_code()` is 1 if any was missed."""

    rows: list[tuple[str, str, str, bool]] = field(default_factory=list)

    def check(self, name: str, measured: str, target: str, ok: bool) -> None:
        self.rows.append((name, measured, target, ok))

    def report(self) -> None:
        rows = [(n, m, t, "met" if ok else "MISSED") for n, m, t, ok in self.rows]
        print(table(["target", "measured", "required", "verdict"], rows))

    def exit_code(self) -> int:
        return 0 if all(ok for *_, ok in self.rows) else 1


# --- processes ------------------------------------------------------------------------------


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process `pid` and its direct children (a
    gunicorn master and its workers), from /proc; 0.0 where /proc is not available."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
                    total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class Procs:
    """Child processes with their logs; `stop()` terminates them (then kills) in any case."""

    log_dir: Path
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def spawn(self, name: str, args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        proc = subprocess.Popen(  # noqa: S603 - our own modules, fixed arguments
            [sys.executable, *args], env=env, stdout=log, stderr=log, cwd=ROOT
        )
        self.procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop_one(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for log in self._logs:
            log.close()
        self.procs.clear()


@contextlib.contextmanager
def world(keep_logs: bool = False) -> Iterator[tuple[contextlib.ExitStack, Path, Procs]]:
    """A temp dir, a process list and an ExitStack; everything is torn down on exit."""

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # run the cleanup below on SIGTERM too (timeout, CI)

    signal.signal(signal.SIGTERM, terminated)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tocsin-bench-")))
        procs = Procs(tmp)
        stack.callback(procs.stop)
        try:
            yield stack, tmp, procs
        except BaseException:
            for name, _ in procs.procs:
                print(f"--- {name} log (tail) ---\n{procs.tail(name)}", file=sys.stderr)
            raise


def start_redis(stack: contextlib.ExitStack, *, appendonly: bool = True) -> str:
    server = EmbeddedRedis(appendonly=appendonly)
    url = server.start()
    stack.callback(server.stop)
    return url


def start_emulator(procs: Procs, env: dict[str, str]) -> str:
    """The Slack emulator in its own process (so it does not share a GIL with the load)."""
    port = free_port()
    procs.spawn("emulator", ["-m", "bot.cli", "sandbox", "--port", str(port)], env)
    root = f"http://127.0.0.1:{port}/"

    def up() -> bool:
        procs.check_alive()
        try:
            with urllib.request.urlopen(root + "sandbox/workspace", timeout=2):  # noqa: S310
                return True
        except OSError:
            return False

    wait_for(up, timeout=20, every=0.1)
    return root


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local emulator
        return json.load(response)


def wait_ready(procs: Procs, base_url: str, timeout: float = 40.0) -> None:
    def ready() -> bool:
        procs.check_alive()
        try:
            return bool(get_json(base_url + "/readyz")["ok"])
        except OSError:
            return False

    wait_for(ready, timeout=timeout, every=0.1)


# --- configuration ----------------------------------------------------------------------

SEVERITIES = """\
severities:
  sev1:
    label: Full outage
    update_every: 15m
    stakeholder_channel: C0STATUS
    criteria: {users_affected_pct: 25}
  sev2:
    label: Significant degradation
    update_every: 30m
    stakeholder_channel: C0STATUS
    criteria: {users_affected_pct: 5}
  sev3: {label: Minor, update_every: 1h}
"""
SCHEDULES = """\
schedules:
  checkout-primary:
    timezone: UTC
    rotations:
      - {members: [U0ALICE01], start: 2020-01-06T00:00, turn: 1w}
"""
POLICY = """\
name: checkout
services: ["*"]
steps:
  - notify: [schedule:checkout-primary]
    wait: 10m
  - notify: [user:U0BOB0001]
    wait: 10m
repeat: 0
fallback_channel: C0INCIDENTS
"""


STORM_USERS = ("U0BOB0001", "U0CAROL01", "U0DAVE001", "U0FRANK01", "U0GRACE01")


def write_config(directory: Path) -> Path:
    """Production-like config: step 1 pages alice (a schedule), waits are long.

    Services svc0..svc4 each page somebody else (STORM_USERS), for concurrent declarations
    whose pages go to different DMs.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "severities.yaml").write_text(SEVERITIES)
    (directory / "schedules.yaml").write_text(SCHEDULES)
    (directory / "checkout.yaml").write_text(POLICY)
    for n, user in enumerate(STORM_USERS):
        (directory / f"svc{n}.yaml").write_text(
            f"name: svc{n}\nservices: [svc{n}]\nsteps:\n"
            f"  - notify: [user:{user}]\n    wait: 10m\nrepeat: 0\n"
            "fallback_channel: C0INCIDENTS\n"
        )
    return directory


def tocsin_env(redis_url: str, config: Path, **extra: str) -> dict[str, str]:
    """Production defaults (poll 0.25 s, reconcile 15 s, claim lease 30 s) unless overridden."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOCSIN_", "SLACK_"))}
    env.update(
        REDIS_URL=redis_url,
        TOCSIN_CONFIG_DIR=str(config),
        TOCSIN_RUNBOOKS_DIR=str(ROOT / "runbooks"),
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@dataclass
class SlackStack:
    """Tocsin as in production, with the emulator standing in for Slack."""

    redis_url: str
    emulator: str  # the emulator's root URL
    driver: Driver  # signs requests to `tocsin web` as Slack would


def start_slack_stack(
    stack: contextlib.ExitStack, tmp: Path, procs: Procs, workers: int
) -> SlackStack:
    """An embedded Valkey, the emulator, `tocsin web` (2 x 8) and `workers` `tocsin worker`s
    with production defaults and the Slack pager; returns once `tocsin web` is ready."""
    url = start_redis(stack)
    config = write_config(tmp / "config")
    emu = start_emulator(procs, tocsin_env(url, config))
    env = tocsin_env(
        url,
        config,
        SLACK_API_URL=emu + "api/",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
    )
    port = free_port()
    web = ["-m", "bot.cli", "web", "--bind", f"127.0.0.1:{port}"]
    procs.spawn("web", [*web, "--workers", "2", "--threads", "8"], env)
    for n in range(workers):
        procs.spawn(f"worker-{n}", ["-m", "bot.cli", "worker", "--name", f"bench-{n}"], env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(procs, base)
    driver = Driver(
        base + "/slack/events",
        SECRET,
        workspace=payload_workspace(load_workspace(None)),
        response_url_base=emu + "sandbox/respond",
    )
    return SlackStack(url, emu, driver)
