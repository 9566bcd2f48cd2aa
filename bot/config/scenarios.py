"""Drill scenarios: `runbooks/drills/<name>.md`, front matter listing injected events.

    ---
    title: The primary database fails over
    events:
      - {at: 30s, post: "Grafana: checkout p99 latency 4.2s"}
      - {at: 5m, post: "Customers report failed payments"}
    ---
    What the team should practise (free Markdown, for people).

Problems are `path:line: message`, lines counted from the file's first line.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config.fields import Duration
from bot.config.loader import display_path
from bot.config.problems import ConfigError, Problem, at
from bot.config.yamlmap import YamlProblem, load_yaml
from bot.domain.drills import Injected, Scenario
from bot.domain.durations import parse_duration

FENCE = "---"
NAME = r"^[a-z0-9][a-z0-9_-]*$"  # a scenario's name is its file's, which a command types


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EventModel(_Model):
    at: Duration = Field(description="When, after the drill is declared: 30s, 5m, ...")
    post: str = Field(min_length=1, max_length=3000, description="Posted in the drill channel.")


class ScenarioFront(_Model):
    title: str = Field(min_length=1, max_length=150)
    events: list[EventModel] = Field(default_factory=list)


def scenario_names(directory: Path) -> list[str]:
    """The scenarios in `directory` (its `*.md` files), by name."""
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.md") if not p.name.startswith("."))


def load_scenario(directory: Path, name: str) -> Scenario | None:
    """The scenario `name` in `directory`, None when there is no such file; ConfigError
    naming `path:line` when it is broken."""
    if not re.fullmatch(NAME, name) or not (directory / f"{name}.md").is_file():
        return None
    path = directory / f"{name}.md"
    shown = display_path(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    close = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == FENCE), None)
    if not lines or lines[0].strip() != FENCE or close is None:
        raise ConfigError([Problem(shown, 1, "a scenario starts with front matter between `---`")])
    try:
        loaded = load_yaml("\n".join(lines[1:close]), shown)
        front = ScenarioFront.model_validate(loaded.data)
    except YamlProblem as exc:
        raise ConfigError([Problem(shown, exc.problem.line + 1, exc.problem.message)]) from None
    except ValidationError as exc:
        raise ConfigError(
            [
                at(
                    shown,
                    loaded.lines.line(tuple(e["loc"])) + 1,
                    tuple(e["loc"]),
                    str(e["msg"]).removeprefix("Value error, "),
                )
                for e in exc.errors()
            ]
        ) from None
    events = tuple(
        Injected(int(parse_duration(e.at).total_seconds()), e.post) for e in front.events
    )
    return Scenario(name, front.title, tuple(sorted(events, key=lambda e: e.at_s)))


class ScenarioDirectory:
    """The scenarios of a directory (`runbooks/drills/`), read when a drill asks for one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, name: str) -> Scenario | None:
        return load_scenario(self.directory, name)

    def names(self) -> list[str]:
        return scenario_names(self.directory)
