"""Counts as people read them: "1 step", "2 steps", "1 policy", "3 policies", "2 people"."""

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
