"""Which page an inbound acknowledgement answers: an SMS reply, a keypress, an email link.

Each page sent by a method off Slack is remembered under (method, address) for a week,
newest first, with its incident, the person paged and its reply code. `page_for` answers
with the latest of them whose incident still waits for an acknowledgement.
"""

from __future__ import annotations

import json

from bot import clock
from bot.domain.incident import Status
from bot.state import keys
from bot.state.store import Store

KEEP_S = 7 * 86400
KEEP = 50  # pages remembered per address


class ReplyBook:
    """`bot.notify.Replies` over Redis, and the record its answers come from."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self, method: str, address: str, incident_id: str, user: str | None, code: str | None
    ) -> None:
        """Remember that a page of `incident_id` to `user` went to `address` by `method`."""
        key = keys.replies(method, address)
        entry = {"incident": incident_id, "user": user, "code": code, "at": clock.now_ts()}
        with self.store.r.pipeline(transaction=False) as pipe:
            pipe.lpush(key, json.dumps(entry, separators=(",", ":")))
            pipe.ltrim(key, 0, KEEP - 1)
            pipe.expire(key, KEEP_S)
            pipe.execute()

    def page_for(self, method: str, address: str, code: str | None) -> tuple[str, str] | None:
        """(incident_id, user) of the latest page sent by `method` to `address` that is not
        yet acknowledged (the one with `code`, when a code was given), or None."""
        raw: list[str] = self.store.r.lrange(keys.replies(method, address), 0, -1)  # type: ignore[assignment]
        entries = [json.loads(r) for r in raw]
        wanted = [e for e in entries if e.get("user") and (code is None or e.get("code") == code)]
        incidents = self.store.get_many({e["incident"] for e in wanted})
        for entry in wanted:
            incident = incidents.get(entry["incident"])
            if incident is not None and incident.status is Status.TRIGGERED:
                return entry["incident"], entry["user"]
        return None
