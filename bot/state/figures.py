"""What /metrics reads at scrape time: the incident gauges and the counters, two hashes."""

from __future__ import annotations

import structlog

from bot.state import counters, gauges
from bot.state.store import Store

log = structlog.get_logger(__name__)
Gauge = tuple[str, tuple[str, ...], int]
Count = tuple[str, dict[str, str], int]


class Figures:
    def __init__(self, store: Store) -> None:
        self.store = store

    def gauges(self) -> list[Gauge]:
        """The incident gauges (`bot.state.gauges.read`), rows first completed if needed."""
        r = self.store.r
        with r.pipeline(transaction=True) as pipe:  # one moment: rows, incidents, gauges
            pipe.zcard(self.store.all_key)
            pipe.hlen(gauges.ROWS)
            pipe.hgetall(gauges.GAUGES)
            incidents, rows, raw = pipe.execute()
        if incidents != rows:  # written before gauges existed, or removed since: once
            self.reconcile()
            raw = r.hgetall(gauges.GAUGES)
        return list(gauges.read(raw))

    def counters(self) -> list[Count]:
        return list(counters.read(self.store.r))

    def reconcile(self) -> None:
        """Give every incident in `tocsin:all` its row, and take back rows of removed ones."""
        store = self.store
        with store.r.pipeline(transaction=True) as pipe:
            pipe.zrange(store.all_key, 0, -1)
            pipe.hkeys(gauges.ROWS)
            ids, tracked = pipe.execute()
        have = set(tracked)
        missing = [str(i) for i in ids if i not in have]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            found = store.get_many(chunk)
            with store.r.pipeline(transaction=False) as pipe:
                for incident_id in chunk:
                    inc = found.get(incident_id)
                    gauges.seed(pipe, incident_id, gauges.row(inc) if inc is not None else "")
                pipe.execute()
        gone = have - {str(i) for i in ids}
        if gone:
            with store.r.pipeline(transaction=False) as pipe:
                gauges.forget(pipe, gone)
                pipe.execute()
        log.info("metrics_rows_reconciled", seeded=len(missing), forgotten=len(gone))
