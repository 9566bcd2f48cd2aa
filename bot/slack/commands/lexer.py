"""Splitting command text into words without losing how it was typed, and reading mentions.

Words are taken one at a time from the front (`take`) or the back (`take_last`); whatever
is left is a slice of the original text, so free text keeps its inner spacing and case.
"""

from __future__ import annotations

import re

from bot.slack.commands.types import Mention

# Slack ids are upper-case letters and digits; a bare user id must contain a digit so that
# an upper-case word such as WEBSITE is not mistaken for one.
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^<>|]*))?>,?")
_USERGROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^<>|]*))?>,?")
_BARE_USER_ID = re.compile(r"([UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{8,}),?")
_HANDLE = re.compile(r"@([^\s@<>|,`*]+),?")
_BROADCAST = re.compile(
    r"(?:<!(channel|here|everyone)(?:\|[^<>]*)?>|@(channel|here|everyone)),?", re.I
)
_CHANNEL = re.compile(r"<#C[A-Z0-9]+(?:\|[^<>]*)?>,?")

SHOWN_CHARS = 40  # how much of a person's word an error message repeats


def take(text: str) -> tuple[str, str]:
    """The first word of `text` and the rest, both stripped; ("", "") when there is none.

    A word that opens with `<` runs to the matching `>` (Slack's escapes may hold spaces in
    their labels) and on to the next whitespace; an unclosed `<` is an ordinary word.
    """
    text = text.lstrip()
    end = 0
    if text.startswith("<"):
        close = text.find(">")
        if close != -1 and "<" not in text[1:close]:
            end = close + 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[:end], text[end:].strip()


def take_last(text: str) -> tuple[str, str]:
    """The text before the last whitespace-separated word, and that word, both stripped."""
    parts = text.strip().rsplit(maxsplit=1)
    if len(parts) < 2:
        return "", parts[0] if parts else ""
    return parts[0].rstrip(), parts[1]


def words(text: str, limit: int) -> list[str]:
    """The first `limit` words of `text` as `take` splits them, and the rest as one more."""
    found: list[str] = []
    word, rest = take(text)
    while word and len(found) < limit:
        found.append(word)
        word, rest = take(rest)
    if word:
        found.append(f"{word} {rest}".strip())
    return found


def mention(word: str) -> Mention | None:
    """The mention a word stands for, or None if it is not one (see `refused` for @channel)."""
    if m := _USER.fullmatch(word):
        return Mention("user", m.group(1), m.group(2) or None)
    if m := _USERGROUP.fullmatch(word):
        label = (m.group(2) or "").removeprefix("@")
        return Mention("usergroup", m.group(1), label or None)
    if _BROADCAST.fullmatch(word):
        return None
    if m := _BARE_USER_ID.fullmatch(word):
        return Mention("user", m.group(1), None)
    if m := _HANDLE.fullmatch(word):
        return Mention("user", None, m.group(1))
    return None


def refused(word: str) -> str | None:
    """Why a word that looks like a target can never be paged or given a role, else None."""
    if m := _BROADCAST.fullmatch(word):
        which = (m.group(1) or m.group(2)).lower()
        return f"`@{which}` would notify a whole channel; mention people or user groups instead."
    if _CHANNEL.fullmatch(word):
        return "A channel is not a person; mention people or user groups instead."
    return None


def shown(word: str) -> str:
    """A person's word as an error message repeats it: shortened, on one line."""
    flat = " ".join(word.split())
    return flat if len(flat) <= SHOWN_CHARS else flat[: SHOWN_CHARS - 1] + "…"
