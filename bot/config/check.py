"""`tocsin check`: validate a config directory and report for people, never with a traceback."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

from bot.config.examples import example_warnings
from bot.config.loader import build_catalog, check_directory, display_path
from bot.config.problems import Problem
from bot.config.walkarounds import rights_warnings
from bot.domain.words import count


def run_check(
    directory: str | os.PathLike[str],
    out: TextIO,
    examples: Mapping[str, tuple[str, str]] | None = None,
) -> int:
    """Print one `path:line: message` line per problem and return 1, or an OK line and 0.

    Warnings (`path:line: warning: …`: rights that walk around others, ids still those of
    the sandbox's `examples`) come first and never change the result."""
    try:
        checked, problems = check_directory(directory)
        warnings = rights_warnings(checked) + example_warnings(directory, examples or {})
        for warning in sorted(warnings):
            print(warning, file=out)
        if not problems:
            catalog = build_catalog(checked)
    except Exception as exc:  # a bug must still not show people a traceback
        problems = [
            Problem(
                display_path(directory),
                1,
                f"internal error while checking ({type(exc).__name__}: {exc}); please report it",
            )
        ]
    if problems:
        for problem in problems:
            print(problem, file=out)
        return 1
    print(
        f"{display_path(directory)}: OK — "
        f"{count(len(catalog.policies), 'policy')}, "
        f"{count(len(catalog.schedules), 'schedule')}, "
        f"{count(len(catalog.tiers), 'severity')}"
        + (
            f", {count(len(catalog.alert_sources), 'alert source')}"
            if catalog.alert_sources
            else ""
        )
        + (f", {count(len(catalog.drills), 'scheduled drill')}" if catalog.drills else "")
        + (f", {count(len(catalog.people.people), 'person')}" if catalog.people.people else ""),
        file=out,
    )
    return 0
