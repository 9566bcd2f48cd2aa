"""Warnings, not errors: a config that still names the sandbox's example people, groups and
channels (U0ALICE01, S0ENGMGRS, C0STATUS, an id the emulator made up such as C0SB0000001)
was copied from the examples and not yet pointed at a real workspace."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.config.loader import config_files, display_path
from bot.config.problems import Problem

MINTED = re.compile(r"\b[CDFGSU]0SB[0-9A-Z]{7}\b")  # the emulator's fresh ids (C0SB0000001)
KINDS = (("users", "user"), ("usergroups", "usergroup"), ("channels", "channel"))
HOW = {
    "user": "profile → ⋯ → Copy member ID",
    "usergroup": "the S… id of a usergroup of yours",
    "channel": "channel details → the C… id at the bottom",
}


def sandbox_examples(workspace: Path) -> dict[str, tuple[str, str]]:
    """The sandbox workspace file's ids: id -> (kind, name)."""
    data: dict[str, Any] = yaml.safe_load(workspace.read_text(encoding="utf-8")) or {}
    found: dict[str, tuple[str, str]] = {}
    for section, kind in KINDS:
        for entry in data.get(section) or []:
            name = entry.get("handle") or entry.get("name") or ""
            found[str(entry["id"])] = (kind, str(name))
    return found


def example_warnings(
    directory: str | os.PathLike[str], examples: Mapping[str, tuple[str, str]]
) -> list[Problem]:
    """One `path:line: warning: …` per line of a config file that names an example id."""
    root = Path(directory)
    if not root.is_dir():
        return []
    known = re.compile(r"\b(" + "|".join(map(re.escape, sorted(examples))) + r")\b")
    found: list[Problem] = []
    for path in config_files(root):
        shown = display_path(path)
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            ids = [m.group(0) for m in known.finditer(code)] if examples else []
            ids += [m.group(0) for m in MINTED.finditer(code) if m.group(0) not in ids]
            if ids:
                found.append(Problem(shown, number, "warning: " + _say(ids, examples)))
    return found


def _say(ids: list[str], examples: Mapping[str, tuple[str, str]]) -> str:
    named = []
    hows = []
    for i in dict.fromkeys(ids):
        kind, name = examples.get(i, ("", ""))
        named.append(f"{i} (the sandbox's {kind} {name})" if kind else i)
        if kind and HOW[kind] not in hows:
            hows.append(HOW[kind])
    what = ", ".join(named)
    hint = f" ({'; '.join(hows)})" if hows else ""
    return f"{what}: an id of the Tocsin sandbox, not of your workspace{hint}"
