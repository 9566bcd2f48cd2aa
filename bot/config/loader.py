"""Load a config directory into a `Catalog`, or fail with every problem found.

Nothing is half-loaded: `load_catalog` returns a complete Catalog or raises ConfigError.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.config.alerts import AlertsFile
from bot.config.crossref import cross_check
from bot.config.drills import DrillsFile
from bot.config.models import PolicyFile, SchedulesFile, SeveritiesFile
from bot.config.people import PeopleFile
from bot.config.problems import ConfigError, Problem
from bot.config.validate import Checked, check_file
from bot.config.yamlmap import YamlProblem, load_yaml
from bot.domain.catalog import Catalog
from bot.domain.drills import ScheduledDrill, SelfTest
from bot.domain.notify import People

SUFFIXES = (".yaml", ".yml")


def display_path(path: str | os.PathLike[str]) -> str:
    """`path` relative to the working directory when it lies below it, else as given."""
    given = Path(path)
    try:
        return str(given.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        return str(given)


def config_files(directory: Path) -> list[Path]:
    """The YAML files directly in `directory`, sorted by name; dotfiles are skipped."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix.lower() in SUFFIXES and not p.name.startswith(".") and not p.is_dir()
    )


def _read(path: Path, shown: str) -> str:
    """The file's text; raise YamlProblem when it cannot be read as UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(Problem(shown, 1, f"cannot read file: {exc.strerror or exc}")) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); is this a binary file?"
        raise YamlProblem(Problem(shown, line, message)) from None


def check_directory(directory: str | os.PathLike[str]) -> tuple[list[Checked], list[Problem]]:
    """Read and validate every config file in `directory`; return them and all problems."""
    shown = display_path(directory)
    root = Path(directory)
    if not root.exists():
        return [], [Problem(shown, 1, "no such directory")]
    if not root.is_dir():
        return [], [Problem(shown, 1, "not a directory; give the directory of YAML files")]
    try:
        paths = config_files(root)
    except OSError as exc:
        return [], [Problem(shown, 1, f"cannot list directory: {exc.strerror or exc}")]
    if not paths:
        return [], [Problem(shown, 1, "no *.yaml or *.yml files here")]
    checked: list[Checked] = []
    problems: list[Problem] = []
    for path in paths:
        name = display_path(path)
        try:
            loaded = load_yaml(_read(path, name), name)
        except YamlProblem as exc:
            problems.append(exc.problem)
            continue
        one, found = check_file(name, loaded)
        problems += found
        if one is not None:
            checked.append(one)
    problems += cross_check(checked)
    problems += _required(shown, checked, problems)
    return checked, sorted(problems)


def _required(shown: str, checked: list[Checked], problems: list[Problem]) -> list[Problem]:
    """The directory needs at least one policy and the severities (if nothing else failed)."""
    if problems:
        return []
    kinds = {type(c.model) for c in checked}
    missing = []
    if PolicyFile not in kinds:
        missing.append(Problem(shown, 1, "no escalation policy found (a file with name and steps)"))
    if SeveritiesFile not in kinds:
        missing.append(Problem(shown, 1, "no severities found (a file with `severities:`)"))
    return missing


def build_catalog(checked: list[Checked]) -> Catalog:
    """Assemble a Catalog from files that passed every check."""
    policies, schedules, tiers, sources = {}, {}, [], {}
    drills: list[ScheduledDrill] = []
    self_test: SelfTest | None = None
    people = People()  # without a people file: everyone by Slack alone, at once
    for c in checked:
        if isinstance(c.model, PolicyFile):
            policies[c.model.name] = c.model.to_policy()
        elif isinstance(c.model, SchedulesFile):
            for name, schedule in c.model.schedules.items():
                schedules[name] = schedule.to_schedule(name)
        elif isinstance(c.model, SeveritiesFile):
            tiers += [tier.to_tier(name) for name, tier in c.model.severities.items()]
        elif isinstance(c.model, AlertsFile):
            for name, source in c.model.alert_sources.items():
                sources[name] = source.to_source(name)
        elif isinstance(c.model, DrillsFile):
            drills += [d.to_drill() for d in c.model.drills]
            if c.model.self_test is not None:
                self_test = c.model.self_test.to_self_test()
        elif isinstance(c.model, PeopleFile):
            people = c.model.to_people()
    return Catalog(
        policies=policies,
        schedules=schedules,
        tiers=tuple(tiers),
        alert_sources=sources,
        drills=tuple(drills),
        self_test=self_test,
        people=people,
    )


def load_catalog(directory: str | os.PathLike[str]) -> Catalog:
    """Load every policy, schedule and severity under `directory`.

    Raise ConfigError listing each problem as `path:line: message`.
    """
    checked, problems = check_directory(directory)
    if problems:
        raise ConfigError(problems)
    return build_catalog(checked)
