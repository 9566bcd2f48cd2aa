"""What goes wrong in a config directory: `Problem`s (file, line, message) and `ConfigError`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathItem = str | int
KeyPath = tuple[PathItem, ...]


def format_path(path: Sequence[object]) -> str:
    """Render a key path the way people write it: `steps[1].wait`, `schedules.p1.rotations[0]`."""
    text = ""
    for item in path:
        if isinstance(item, int) and not isinstance(item, bool):
            text += f"[{item}]"
        else:
            text += f".{item}" if text else str(item)
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the configuration, at `path:line` (line counts from 1)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{_one_line(self.path)}:{self.line}: {_one_line(self.message) or 'invalid'}"


def at(path: str, line: int, keys: Sequence[object], message: str) -> Problem:
    """A problem whose message starts with the key path, when there is one."""
    where = format_path(keys)
    return Problem(path, line, f"{where}: {message}" if where else message)


class ConfigError(Exception):
    """The configuration cannot be loaded; `problems` says every reason, one per line in str()."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
