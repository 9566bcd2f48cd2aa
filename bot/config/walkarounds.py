"""Warnings, not errors: decision rights a tier leaves open that get round the ones it sets."""

from __future__ import annotations

from bot.config.models import SeveritiesFile
from bot.config.problems import Problem, format_path
from bot.config.validate import Checked
from bot.domain.severity import walkarounds


def rights_warnings(checked: list[Checked]) -> list[Problem]:
    """One `path:line: warning: …` per open right that walks around another, at that right."""
    found: list[Problem] = []
    for f in checked:
        if not isinstance(f.model, SeveritiesFile):
            continue
        tiers = [tier.to_tier(name) for name, tier in f.model.severities.items()]
        for walk in walkarounds(tiers):
            keys = ("severities", walk.tier, "rights", walk.right)
            line = f.loaded.lines.line(keys, key=True)
            found.append(Problem(f.path, line, f"warning: {format_path(keys)}: {walk.message}"))
    return sorted(found)
