"""Redis repository: incidents, their outbox of pages, timelines, idempotency keys.

Write methods take `pipe` so the caller owns the transaction (as rq does); those that
stand alone (a delivery attempt, a claim) write at once. Incidents are read under WATCH
and written in MULTI (bot.state.txn): a racing writer makes the transaction fail and the
change is re-run on the new state, so each change is applied exactly once.
Timelines are kept by bot.state.timeline.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from redis.client import Pipeline

from bot.domain.incident import Incident
from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.domain.timeline import Entry
from bot.state import counters, gauges, keys, timeline
from bot.state.keys import PREFIX
from bot.state.markers import Markers
from bot.state.replicas import ReplicaWait
from bot.state.timeline import Row
from bot.state.txn import transact, transact_once

T = TypeVar("T")
# queues one command about an incident (its id) on a pipeline: see `first_delivery_in`
Also = Callable[[Pipeline, str], None]

# A delivery claim is dropped only by its holder: KEYS are claim keys, ARGV[1] the owner.
# (A holder whose lease ran out must not drop the claim another worker has taken since.)
_RELEASE_OWN = """
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key) end
end
return 0
"""
# Record a delivery attempt only while the claim is still ours: KEYS[1] the claim, KEYS[2]
# the outbox hash; ARGV: owner, item key, item JSON. 1 if recorded, 0 if the claim is lost.
_ATTEMPT = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# A first delivery and the document it is about: KEYS[1] the retry key, KEYS[2] the
# incident; ARGV[1] the retry key's TTL (s). {1 if first else 0, the document or nil}.
# (One call costs the client less than a pipeline of the two: BENCHMARKS.md, issue 18.)
_FIRST_OF = """
local first = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
return {first and 1 or 0, redis.call('GET', KEYS[2])}
"""


class IncidentNotFound(LookupError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no incident {incident_id!r}")
        self.incident_id = incident_id


@dataclass
class OutboxItem:
    """A message the bot owes somebody: a page DM or an announcement in a channel."""

    key: str  # unique within the incident: "page:<step>:<loop>:<user>[|<slot>]", "announce:..."
    kind: OutboxKind
    to: str  # user id (page), channel id, or "@incident" (the incident's channel, when it exists)
    text: str
    step: int = 0
    loop: int = 0
    via: str = ""
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    created_at: float = 0.0
    sent_at: float | None = None
    ref: str | None = None  # where it landed, e.g. "D123/1700000000.000100"
    last_error: str | None = None
    thread: str | None = None  # "@header": reply in the thread of the incident's header message
    blocks: list[dict[str, Any]] | None = None
    broadcast: bool = False  # reply_broadcast for thread replies
    # A page by a method other than a Slack DM (bot.notify): its key ends in "|<slot>"
    method: str = "slack"  # slack | sms | voice | email | apprise | ...
    address: str | None = None  # the phone, email address or URL it goes to (not Slack's)
    not_before: float = 0.0  # a later notification rule: not sent before this (POSIX s)

    def __post_init__(self) -> None:  # as read from JSON: plain strings
        self.kind, self.status = OutboxKind(self.kind), OutboxStatus(self.status)

    def to_json(self) -> str:
        return json.dumps(vars(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> OutboxItem:
        return cls(**json.loads(raw))


class Store:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection
        self.markers = Markers(connection)
        self.replicas = ReplicaWait(connection)  # off; Runtime.build sets it from the settings
        self._channels: dict[str, str] = {}  # channel id -> incident id, see incident_in_channel
        self._parsed: dict[str | bytes, Incident] = {}  # stored document -> incident, see parse
        self._latest: dict[str, str | bytes] = {}  # incident id -> document last parsed
        self._release_own = connection.register_script(_RELEASE_OWN)
        self._attempt = connection.register_script(_ATTEMPT)
        self._first_of = connection.register_script(_FIRST_OF)

    # keys -----------------------------------------------------------------------------
    @staticmethod
    def incident_key(incident_id: str) -> str:
        return keys.incident(incident_id)

    @staticmethod
    def outbox_key(incident_id: str) -> str:
        return f"{PREFIX}:inc:{incident_id}:outbox"

    timeline_key = staticmethod(timeline.timeline_key)
    facts_key = staticmethod(timeline.facts_key)

    open_key = f"{PREFIX}:open"
    all_key = f"{PREFIX}:all"
    closed_key = f"{PREFIX}:closed"  # resolved incidents by resolution time (bot.state.retention)

    # incidents ------------------------------------------------------------------------
    def next_number(self, day: str) -> int:
        """A per-day incident counter (day as YYYYMMDD), for ids and channel names."""
        key = f"{PREFIX}:seq:{day}"
        number = int(self.r.incr(key))
        self.r.expire(key, 3 * 86400)
        return number

    def get(self, incident_id: str, conn: redis.Redis | Pipeline | None = None) -> Incident:
        raw = (conn or self.r).get(self.incident_key(incident_id))
        if raw is None:
            raise IncidentNotFound(incident_id)
        return self.parse(raw)

    def parse(self, raw: str | bytes) -> Incident:
        """`parse_incident`, remembered for the last few hundred documents: an incident is
        read far more often than it changes (a note storm, an ack storm), its document is
        the whole of its state, and an Incident is immutable."""
        incident = self._parsed.get(raw)
        if incident is None:
            incident = parse_incident(raw)
            if len(self._parsed) >= 256:
                self._parsed.clear()
                self._latest.clear()
            self._parsed[raw] = incident
        self._latest[incident.id] = raw
        return incident

    def seen_in(self, channel_id: str) -> tuple[str | bytes, Incident] | None:
        """The document this process last parsed of the channel's incident, with the
        incident, once the channel's link is remembered (see `incident_in_channel`): maybe
        no longer the stored one, so only for a write that checks it (bot.state.quick_note)."""
        incident_id = self._channels.get(channel_id)
        raw = None if incident_id is None else self._latest.get(incident_id)
        incident = None if raw is None else self._parsed.get(raw)
        if raw is None or incident is None or incident.channel_id != channel_id:
            return None
        return raw, incident

    def get_many(self, incident_ids: Iterable[str]) -> dict[str, Incident]:
        """The incidents that exist among `incident_ids`, in one round trip."""
        ids = list(incident_ids)
        raw = self.r.mget([self.incident_key(i) for i in ids]) if ids else []
        return {i: self.parse(x) for i, x in zip(ids, raw, strict=True) if x is not None}

    def ping(self) -> bool:
        """Redis answers."""
        return bool(self.r.ping())

    def find(self, incident_id: str) -> Incident | None:
        try:
            return self.get(incident_id)
        except IncidentNotFound:
            return None

    def put(self, incident: Incident, pipe: Pipeline) -> None:
        pipe.set(self.incident_key(incident.id), json.dumps(incident.to_dict()))
        pipe.zadd(self.all_key, {incident.id: incident.declared_at.timestamp()})
        if incident.drill:  # before any of its timeline entries, which then count nowhere
            pipe.sadd(keys.DRILLS, incident.id)
        if incident.is_open:
            pipe.sadd(self.open_key, incident.id)
            pipe.zrem(self.closed_key, incident.id)
        else:
            pipe.srem(self.open_key, incident.id)
            closed = incident.resolved_at or incident.declared_at
            pipe.zadd(self.closed_key, {incident.id: closed.timestamp()})
        gauges.track(pipe, incident)  # /metrics' figures move with the incident

    def open_ids(self) -> list[str]:
        return sorted(str(i) for i in self.r.smembers(self.open_key))

    def update(self, incident_id: str, change: Callable[[Incident, Pipeline], T]) -> T:
        """Run `change(incident, pipe)` under WATCH and commit its queued writes atomically.

        `change` reads the incident as it is now, decides, and queues writes on `pipe`
        (already in MULTI). If another writer got there first the whole thing is re-run on
        the new state. Whatever `change` raises aborts without writing.
        """

        def run(pipe: Pipeline) -> T:
            incident = self.get(incident_id, pipe)
            pipe.multi()
            return change(incident, pipe)

        return transact(self.r, [self.incident_key(incident_id)], run)

    def update_all(
        self, incident_ids: list[str], change: Callable[[list[Incident | None], Pipeline], None]
    ) -> bool:
        """`update` for several incidents at once (None for those that do not exist), tried
        once: False, with nothing written, when another writer changed one of them."""
        ids = [self.incident_key(i) for i in incident_ids]

        def run(pipe: Pipeline) -> None:
            raw = pipe.mget(ids)
            pipe.multi()
            change([None if x is None else parse_incident(x) for x in raw], pipe)

        committed, _ = transact_once(self.r, ids, run)
        return committed

    def transact(self, watched: list[str], change: Callable[[Pipeline], T]) -> T:
        """Run `change` under WATCH of the keys `watched` (see `bot.state.txn.transact`)."""
        return transact(self.r, watched, change)

    def replicated(self, what: str) -> bool:
        """After a write that carries a promise: WAIT for the replicas (see bot.state.replicas)."""
        return self.replicas.confirm(what)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Pipeline]:
        """A MULTI: the writes queued in the block commit together at its end (none if it
        raises). For writes that need no read first, so nothing to WATCH."""
        with self.r.pipeline() as pipe:
            yield pipe
            pipe.execute()

    def count(self, name: str, pipe: Pipeline | None = None, **labels: str) -> None:
        """Add one to a /metrics counter (in `pipe`'s transaction when given)."""
        counters.incr(pipe or self.r, name, 1, **labels)

    # outbox ---------------------------------------------------------------------------
    def add_outbox(self, incident_id: str, items: list[OutboxItem], pipe: Pipeline) -> None:
        for item in items:
            pipe.hsetnx(self.outbox_key(incident_id), item.key, item.to_json())

    def outbox(self, incident_id: str) -> list[OutboxItem]:
        return self.outboxes([incident_id])[0]

    def save_outbox_item(
        self, incident_id: str, item: OutboxItem, pipe: Pipeline | None = None
    ) -> None:
        (pipe or self.r).hset(self.outbox_key(incident_id), item.key, item.to_json())

    def delivered(
        self,
        incident_id: str,
        item: OutboxItem,
        record: Row | None,
        owner: str,
        *,
        slack: bool = True,
    ) -> str | None:
        """Save `item` (sent) with its timeline entry if any, end the incident's Slack gap
        (when it went by Slack) and release `owner`'s claim on it, in one round trip: when
        the gap began, if there was one."""
        with self.r.pipeline(transaction=False) as pipe:
            self.save_outbox_item(incident_id, item, pipe)
            if record is not None:
                self.record(incident_id, record[0], pipe, record[1])
            if slack:
                pipe.getdel(keys.slack_gap(incident_id))
            self.release_many([(incident_id, item.key)], owner, pipe)
            answers = pipe.execute()
        began = answers[-2] if slack else None
        return None if began is None else str(began)

    def attempting(self, incident_id: str, item: OutboxItem, owner: str) -> bool:
        """Save `item` (its attempt counted) if `owner` still holds its claim: False when the
        claim was lost (a lease that ran out while this worker was slow) and another worker
        may be delivering it; the caller must not send it then."""
        args = [owner, item.key, item.to_json()]
        claim = keys.claim(incident_id, item.key)
        return bool(self._attempt(keys=[claim, self.outbox_key(incident_id)], args=args))

    def pull_in(self, incident_id: str, key: str, at: float) -> bool:
        """Make the pending item `key` due at `at` if it was due later (a person's next
        method, when the one before it failed for good); whether it moved. Under WATCH of
        the outbox, so a concurrent write to it is never overwritten."""
        outbox = self.outbox_key(incident_id)

        def change(pipe: Pipeline) -> bool:
            raw = pipe.hget(outbox, key)
            item = None if raw is None else OutboxItem.from_json(str(raw))
            pipe.multi()
            if item is None or item.status is not OutboxStatus.PENDING or item.not_before <= at:
                return False
            item.not_before = at
            pipe.hset(outbox, key, item.to_json())
            return True

        return transact(self.r, [outbox], change)

    def slack_gap_began(self, incident_id: str, at: float) -> None:
        """Slack refuses the incident's deliveries since `at` (kept if already set)."""
        self.markers.first(keys.slack_gap(incident_id), 7 * 86400, at)

    def outboxes(self, incident_ids: Sequence[str]) -> list[list[OutboxItem]]:
        """Several incidents' outboxes in one round trip, each in creation order."""
        with self.r.pipeline(transaction=False) as pipe:
            for incident_id in incident_ids:
                pipe.hgetall(self.outbox_key(incident_id))
            raw: list[dict[str, str]] = pipe.execute()
        return [
            sorted((OutboxItem.from_json(v) for v in items.values()), key=_creation)
            for items in raw
        ]

    def claim_many(
        self, items: Sequence[tuple[str, str]], owner: str, lease_s: float
    ) -> list[tuple[str, str, OutboxItem | None]]:
        """Take the right to deliver each (incident, key) for `lease_s` s (SET NX PX), and
        re-read the item under it, all in one round trip; return those claimed, as they are
        now (None if gone)."""
        with self.r.pipeline(transaction=False) as pipe:
            for incident_id, key in items:
                pipe.set(keys.claim(incident_id, key), owner, nx=True, px=int(lease_s * 1000))
                pipe.hget(self.outbox_key(incident_id), key)
            answers = pipe.execute()
        return [
            (incident_id, key, None if raw is None else OutboxItem.from_json(str(raw)))
            for (incident_id, key), claimed, raw in zip(
                items, answers[::2], answers[1::2], strict=True
            )
            if claimed
        ]

    def release_many(
        self, claims: Sequence[tuple[str, str]], owner: str, pipe: Pipeline | None = None
    ) -> None:
        """Drop those of the claims `owner` still holds (one taken over since stays)."""
        if claims:
            claim_keys = [keys.claim(incident_id, key) for incident_id, key in claims]
            self._release_own(keys=claim_keys, args=[owner], client=pipe or self.r)

    def renew_claim(self, incident_id: str, key: str, owner: str, lease_s: float) -> bool:
        """Extend our claim for another `lease_s` (only if it is still ours)."""
        renewed = self.r.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then "
            "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
            1,
            keys.claim(incident_id, key),
            owner,
            int(lease_s * 1000),
        )
        return bool(renewed)

    # timeline (bot.state.timeline) -------------------------------------------------------
    def record(
        self,
        incident_id: str,
        entry: Entry,
        pipe: Pipeline | redis.Redis | None = None,
        data: dict[str, Any] | None = None,
        drill: bool | None = None,
    ) -> None:
        """`drill`: whether the incident is a drill, when known (see `timeline.append`)."""
        timeline.append(pipe or self.r, incident_id, entry, data, drill)

    def timeline(self, incident_id: str) -> list[Entry]:
        return [e for e, _ in self.timeline_with_data(incident_id)]

    def timeline_with_data(self, incident_id: str) -> Iterator[Row]:
        return timeline.read(self.r, incident_id)

    def timeline_dropped(self, incident_id: str) -> int:
        """How many of the timeline's oldest entries the cap has dropped."""
        return timeline.dropped(self.r, incident_id)

    # channels ---------------------------------------------------------------------------
    def link_channel(self, channel_id: str, incident_id: str, pipe: Pipeline | None = None) -> None:
        (pipe or self.r).set(keys.channel_link(channel_id), incident_id)

    def incident_for_channel(self, channel_id: str) -> str | None:
        found = self.r.get(keys.channel_link(channel_id))
        return None if found is None else str(found)

    def incident_in_channel(self, channel_id: str) -> Incident | None:
        """The incident whose channel this is, in one round trip once the link is known.

        A channel belongs to one incident for good, so the link is remembered in this
        process; the incident read confirms it (a cleared database forgets it again).
        """
        cached = self._channels.get(channel_id)
        if cached is not None and (incident := self._confirm(channel_id, self.find(cached))):
            return incident
        incident_id = self.incident_for_channel(channel_id)
        incident = None if incident_id is None else self.find(incident_id)
        if incident is not None and incident.channel_id == channel_id:
            if len(self._channels) >= 10_000:
                self._channels.clear()
            self._channels[channel_id] = incident.id
        return incident

    # idempotency ----------------------------------------------------------------------
    def first_delivery(self, key: str, ttl_s: int = 3600) -> bool:
        """True the first time `key` is seen within `ttl_s` (Slack may deliver twice)."""
        return self.markers.first(keys.seen(key), ttl_s)

    def first_delivery_in(
        self, key: str, channel_id: str, ttl_s: int = 3600, also: Also | None = None
    ) -> tuple[bool, Incident | None, Any]:
        """`first_delivery`, and the channel's incident if its link is remembered (see
        `incident_in_channel`), in one round trip; None when the incident is not known yet.

        `also(pipe, incident_id)` queues one more command about that incident in the same
        round trip (the write limiter's, bot.state.write_limits); its answer comes third,
        None when it was not run (no remembered link) or the incident was not confirmed."""
        cached = self._channels.get(channel_id)
        if cached is None:
            return self.first_delivery(key, ttl_s), None, None
        with self.r.pipeline(transaction=False) as pipe:
            pipe.set(keys.seen(key), "1", nx=True, ex=ttl_s)
            pipe.get(self.incident_key(cached))
            if also is not None:
                also(pipe, cached)
            first, raw, *extra = pipe.execute()
        incident = self._confirm(channel_id, None if raw is None else self.parse(raw))
        return bool(first), incident, extra[0] if extra and incident is not None else None

    def first_delivery_of(
        self, key: str, incident_id: str, ttl_s: int = 3600
    ) -> tuple[bool, Incident | None]:
        """`first_delivery`, and the incident `incident_id` (None if there is none), in one
        round trip."""
        first, raw = self._first_of(
            keys=[keys.seen(key), self.incident_key(incident_id)], args=[ttl_s]
        )
        return bool(first), None if raw is None else self.parse(raw)

    def forget_delivery(self, key: str) -> None:
        """Undo `first_delivery` for `key`: a delivery that was refused is not remembered."""
        self.r.delete(keys.seen(key))

    def _confirm(self, channel_id: str, incident: Incident | None) -> Incident | None:
        """The remembered link's incident if it still names this channel; else forget it."""
        if incident is not None and incident.channel_id == channel_id:
            return incident
        self._channels.pop(channel_id, None)
        return None


def parse_incident(raw: str | bytes) -> Incident:
    """An incident as stored (its JSON document)."""
    return Incident.from_dict(json.loads(raw))


def _creation(item: OutboxItem) -> tuple[float, str]:
    return item.created_at, item.key
