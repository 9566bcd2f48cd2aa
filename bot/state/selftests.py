"""Self-test runs: who each run paged (for which schedules), when each acknowledged, and
whether its report is in; their pages' send records in a `SendLedger` of their own.

A run is named `self-test-<epoch>` after its firing; its keys expire KEEP_S after it fired.
OPEN lists the runs whose report is not in yet (the reconciler re-arms what they still owe).
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from bot.state.keys import PREFIX
from bot.state.once import SendLedger

OPEN = f"{PREFIX}:selftests:open"  # set of run ids not reported yet
KEEP_S = 35 * 86400


def _key(run: str) -> str:
    return f"{PREFIX}:selftest:{run}"


def run_id(epoch: int) -> str:
    return f"self-test-{epoch}"


def sending_lease(run: str) -> str:
    return f"{_key(run)}:sending"


def reported_marker(run: str) -> str:
    return f"{_key(run)}:reported"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# An acknowledgement counts only before the report reads the run (it sets "reported" first).
_ACK = """
if redis.call('hexists', KEYS[1], 'reported') == 1 then return 'late' end
if redis.call('hsetnx', KEYS[1], ARGV[1], ARGV[2]) == 1 then return 'acked' end
return 'already'
"""


class SelfTestRuns:
    def __init__(
        self, connection: redis.Redis, confirm: Callable[[str], object] | None = None
    ) -> None:
        self.r, self.confirm = connection, confirm  # confirm: see `SendLedger`
        self._ack = connection.register_script(_ACK)

    def ledger(self, run: str) -> SendLedger:
        """Where the run's sends are recorded: a page by its user id, the report as `report`."""
        return SendLedger(self.r, f"{_key(run)}:sends", KEEP_S, self.confirm)

    def open(
        self,
        run: str,
        fired_at: float,
        report_at: float,
        pages: dict[str, list[str]],
        nobody: list[str],
    ) -> None:
        """Record a run: `pages` user -> the schedules they are paged for, `nobody` the
        schedules with nobody on call; in one MULTI with its place in OPEN."""
        with self.r.pipeline() as pipe:
            pipe.hset(
                _key(run),
                mapping={
                    "fired_at": repr(fired_at),
                    "report_at": repr(report_at),
                    **{f"page:{user}": ",".join(names) for user, names in pages.items()},
                    **{f"nobody:{name}": "1" for name in nobody},
                },
            )
            pipe.expire(_key(run), KEEP_S)
            pipe.sadd(OPEN, run)
            pipe.execute()

    def read(self, run: str) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self.r.hgetall(_key(run)).items()}

    def open_runs(self) -> list[str]:
        return sorted(_text(m) for m in self.r.smembers(OPEN))

    def acknowledge(self, run: str, user: str, ts: float) -> str:
        """Record `user`'s acknowledgement of their page, unless the report is being made:
        "acked", "already" (recorded before) or "late" (the report is in)."""
        return str(self._ack(keys=[_key(run)], args=[f"acked:{user}", repr(ts)]))

    def mark_reported(self, run: str) -> None:
        """The report is being made: acknowledgements from now on are too late."""
        self.r.hset(_key(run), "reported", "1")

    def closed(self, run: str) -> None:
        """The run's report is in: nothing more is owed for it."""
        self.r.srem(OPEN, run)
