"""A person's own notification rules, set from the App Home over people.yaml's.

Kept until the person clears them (they are theirs, not an incident's). Every change is
audited: who changed them, when, and to what, newest first, shown on their App Home.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from bot.domain.notify import Rule, rules_text
from bot.state import keys

AUDIT_KEPT = 20


@dataclass(frozen=True)
class Change:
    """One change of a person's rules: `rules` "" when they went back to the file's."""

    at: float
    by: str
    rules: str


class OwnRules:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection

    def get(self, user: str) -> tuple[Rule, ...] | None:
        """`user`'s own rules, or None (the file's apply)."""
        raw = self.r.get(keys.own_rules(user))
        if raw is None:
            return None
        return tuple(Rule(float(a), str(v)) for a, v in json.loads(str(raw)))

    def set(self, user: str, rules: tuple[Rule, ...] | None, by: str, at: float) -> None:
        """Make `rules` `user`'s own (None: back to the file's), and audit it, at once."""
        change = {"at": at, "by": by, "rules": rules_text(rules) if rules else ""}
        with self.r.pipeline() as pipe:
            if rules:
                pipe.set(keys.own_rules(user), json.dumps([[r.after_s, r.via] for r in rules]))
            else:
                pipe.delete(keys.own_rules(user))
            pipe.lpush(keys.own_rules_audit(user), json.dumps(change, separators=(",", ":")))
            pipe.ltrim(keys.own_rules_audit(user), 0, AUDIT_KEPT - 1)
            pipe.execute()

    def audit(self, user: str) -> list[Change]:
        """The changes of `user`'s rules, newest first."""
        rows: list[str] = self.r.lrange(keys.own_rules_audit(user), 0, -1)  # type: ignore[assignment]
        return [Change(**json.loads(row)) for row in rows]
