"""A note in one round trip: the retry check, the incident's check, the write limiter and
the timeline entry in one Lua call.

The caller decided that the note may be written (state, rights) on an incident document
it has read before; the script writes only if that document is still the one stored (its
SHA-1), so the decision holds. The limiter is asked first, as for any note (nothing
refuses a note before the limiter: bot.incident.commands); when the document has changed,
the script returns it with the retry key and the limiter's count taken, and the caller
goes on the usual way with that read and that answer. A re-sent command writes nothing.
A note is not a fact kind (bot.domain.milestones), so it has no `facts` entry to add.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, cast

import redis

from bot.domain.milestones import FACT_KINDS
from bot.domain.timeline import TIMELINE_MAX, Entry
from bot.state import keys
from bot.state.counters import COUNTERS, timeline_field
from bot.state.timeline import stream_fields, timeline_key
from bot.state.write_limits import GCRA_FUNCTION

# KEYS: the retry key, the incident, its timeline, the counters, the limiter's key.
# ARGV: retry TTL (s), the SHA-1 of the document the caller checked, the timeline's cap,
# the counter's field ('' for a drill, which counts nothing), whether to ask the limiter
# ('1' or '0') with its now (ms), interval (ms) and burst, then the entry's field/value pairs.
_NOTE = (
    GCRA_FUNCTION
    + """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return {'retry'}
end
if ARGV[5] == '1' then
  local wait = gcra(KEYS[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]))
  if wait > 0 then
    return {'limited', wait}
  end
end
local doc = redis.call('GET', KEYS[2])
if not doc then
  return {'moved'}
end
if redis.sha1hex(doc) ~= ARGV[2] then
  return {'moved', doc}
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 9))
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
end
return {'recorded'}
"""
)

Said = Literal["recorded", "retry", "moved", "limited"]


@dataclass(frozen=True)
class Written:
    """What the script did: `recorded` the note; `retry`: Slack's re-send, nothing done;
    `limited`: refused by the write limit (`wait_ms`), the retry key is taken; `moved`: the
    incident is no longer the document checked (`document`: as stored now, None when it is
    gone), the retry key is taken and so is the limiter's count, if it was asked."""

    said: Said
    document: str | None = None
    wait_ms: int = 0


def digest(document: str | bytes) -> str:
    """The SHA-1 the script compares the stored document with (redis.sha1hex)."""
    raw = document.encode() if isinstance(document, str) else document
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()


class QuickNotes:
    def __init__(self, connection: redis.Redis, retry_ttl_s: int = 3600) -> None:
        self._script = connection.register_script(_NOTE)
        self.retry_ttl_s = retry_ttl_s

    def write(
        self,
        retry_key: str,
        incident_id: str,
        checked: str | bytes,
        entry: Entry,
        drill: bool,
        limit: tuple[str, list[int]] | None,
    ) -> Written:
        """Record `entry` on the incident if Slack sends `retry_key` for the first time, the
        incident is still the document `checked`, and the write limit (`limit`: the
        limiter's question, `WriteLimiter.question`; None: not limited) allows it."""
        if entry.kind in FACT_KINDS:
            raise ValueError(f"a {entry.kind.value} entry also belongs in the facts list")
        limiter_key, limiter_args = limit if limit is not None else ("", [0, 0, 0])
        fields = [part for pair in stream_fields(entry, None).items() for part in pair]
        counted = "" if drill else timeline_field(entry.kind.value, {})
        answer = cast(
            list[object],
            self._script(
                keys=[
                    keys.seen(retry_key),
                    keys.incident(incident_id),
                    timeline_key(incident_id),
                    COUNTERS,
                    limiter_key or keys.seen(retry_key),  # not read without a limiter
                ],
                args=[
                    self.retry_ttl_s,
                    digest(checked),
                    TIMELINE_MAX,
                    counted,
                    "1" if limit is not None else "0",
                    *limiter_args,
                    *fields,
                ],
            ),
        )
        said = cast(Said, answer[0].decode() if isinstance(answer[0], bytes) else answer[0])
        if said == "moved":
            found = answer[1] if len(answer) > 1 else None
            document = found.decode() if isinstance(found, bytes) else cast(str | None, found)
            return Written(said, document)
        if said == "limited":
            return Written(said, wait_ms=int(str(answer[1])))
        return Written(said)
