"""Words as people read them: counts ("1 step", "2 steps", "3 policies", "2 people") and
a page's place in its policy ("step 2, round 3")."""

from __future__ import annotations

IRREGULAR = {"person": "people"}


def plural(noun: str) -> str:
    """The English plural of `noun` (regular nouns, a consonant's y, and IRREGULAR)."""
    if noun in IRREGULAR:
        return IRREGULAR[noun]
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + "s"


def count(n: int, noun: str) -> str:
    """`n` and `noun`, plural unless `n` is exactly one."""
    return f"1 {noun}" if n == 1 else f"{n:,} {plural(noun)}"


def position(step: int, loop: int) -> str:
    """Where in its policy a page is, counted from 1: `step 2`, or `step 2, round 3` once the
    policy has gone round again (loops are 0-based in data, rounds 1-based in words)."""
    return f"step {step + 1}" + (f", round {loop + 1}" if loop else "")
