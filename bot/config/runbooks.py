"""Runbooks: Markdown files with YAML front matter and a `## Triage` decision tree.

A runbook file looks like this::

    ---
    title: Checkout returns 5xx
    services: [checkout, payments-api]
    alerts: [CheckoutErrorRateHigh, "Checkout*5xx"]
    severity_hint: sev2          # optional
    actions:                     # optional: containment buttons (README "Containment actions")
      - id: rollback
        label: Roll back checkout
        webhook: {url_env: ROLLBACK_URL, secret_env: ROLLBACK_SECRET}
        confirm: Roll checkout back to the previous release?
        right: contain           # the tier's right a presser needs (default contain)
        params: {service: checkout}
        auto_when: {severity: [sev1], drills: false}
    ---
    ## Triage
    - If error rate rose right after a deploy → roll back: `deployctl rollback checkout`
      - If the rollback itself fails → escalate: page the release manager

Each triage line is `- If <symptom> → <kind>: <first containment action>` (`->` works too);
the kinds are those of `ActionKind`. One level of sub-bullets may refine a branch, and an
indented line that is not a bullet continues the action above it. Every problem found is
reported as `path:line: message`, lines counted from the file's first line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config.loader import display_path
from bot.config.problems import ConfigError, Problem, at
from bot.config.yamlmap import Loaded, YamlProblem, load_yaml
from bot.domain.containment import ContainmentAction
from bot.domain.runbook import ActionKind, Branch, Runbook, RunbookIndex
from bot.domain.severity import RIGHTS

FENCE = "---"
SKIPPED_FILES = frozenset({"readme.md"})


_KIND_ALIASES = {"rollback": ActionKind.ROLL_BACK}


# --- front matter ------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, pattern=r"\S")]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ParamValue = Annotated[str, Field(max_length=200)]
RightName = Literal[RIGHTS]  # type: ignore[valid-type]  # the tier rights, by name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WebhookModel(_Strict):
    """Where an action's POST goes and what signs it, both named by environment variable."""

    url_env: EnvName
    secret_env: EnvName


class AutoWhenModel(_Strict):
    """When an alert route runs the action by itself."""

    severity: list[Name] = Field(min_length=1)
    drills: bool = False  # on a drill incident too


class ActionModel(_Strict):
    """A containment action: a button under the runbook post that sends a signed webhook."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    label: str = Field(min_length=1, max_length=75, pattern=r"\S")  # Slack's button text limit
    webhook: WebhookModel
    confirm: str = Field(min_length=1, max_length=300, pattern=r"\S")  # the confirm dialog's
    right: RightName = "contain"
    params: dict[Name, ParamValue] = Field(default_factory=dict, max_length=20)
    auto_when: AutoWhenModel | None = None
    timeout: float = Field(default=10.0, gt=0, le=60, description="Seconds per attempt.")

    def to_action(self) -> ContainmentAction:
        auto = self.auto_when
        return ContainmentAction(
            id=self.id,
            label=self.label.strip(),
            url_env=self.webhook.url_env,
            secret_env=self.webhook.secret_env,
            confirm=self.confirm.strip(),
            right=self.right,
            params=tuple(self.params.items()),
            auto_when=tuple(auto.severity) if auto else (),
            drills=auto.drills if auto else False,
            timeout_s=self.timeout,
        )


class FrontMatter(_Strict):
    """The YAML between the `---` lines at the top of a runbook."""

    title: str = Field(min_length=1, max_length=150, pattern=r"\S")
    services: list[Name] = Field(min_length=1, description='Services it covers; "*" = any.')
    alerts: list[Name] = Field(default_factory=list, description="Alert names or fnmatch patterns.")
    severity_hint: Name | None = None
    actions: list[ActionModel] = Field(default_factory=list, max_length=5)  # one actions block


_EXPECTED = {
    "string_type": "text",
    "list_type": "a list",
    "model_type": "a mapping",
    "dict_type": "a mapping",
    "bool_type": "true or false",
}


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    """The model whose keys are allowed at `loc` (a key's location, the key last)."""
    inner = [item for item in loc[:-1] if isinstance(item, str)]
    if inner[-1:] == ["webhook"]:
        return WebhookModel
    if inner[-1:] == ["auto_when"]:
        return AutoWhenModel
    return ActionModel if inner[-1:] == ["actions"] else FrontMatter


def _front_matter_problem(path: str, loaded: Loaded, err: Any, offset: int) -> Problem:
    loc = tuple(err["loc"])
    kind, message = err["type"], str(err["msg"])
    if kind == "missing":
        line = loaded.lines.line(loc[:-1])
        return at(path, line + offset, loc[:-1], f"missing key {loc[-1]!r}")
    if kind == "extra_forbidden":
        allowed = ", ".join(_model_at(loc).model_fields)
        line = loaded.lines.line(loc, key=True)
        return at(path, line + offset, loc, f"unknown key (allowed: {allowed})")
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {err.get('input')!r}"
    elif kind == "too_short":
        message = "must not be empty"
    elif kind == "string_pattern_mismatch" and loc[-1] in ("title", "label", "confirm"):
        message = "must not be blank"
    elif kind == "string_too_long":
        limit = err.get("ctx", {}).get("max_length", 150)
        message = f"is longer than {limit} characters (a Slack limit)"
    elif kind == "string_pattern_mismatch" or kind == "literal_error":
        message = f"{message}; got {err.get('input')!r}"
    return at(path, loaded.lines.line(loc) + offset, loc, message)


def _split_front_matter(text: str, path: str) -> tuple[FrontMatter | None, int, list[Problem]]:
    """Validate the front matter; return it, the index of its closing line, and problems."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        return None, -1, [Problem(path, 1, "no front matter: the file must start with `---`")]
    close = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == FENCE), None)
    if close is None:
        return None, -1, [Problem(path, 1, "front matter opened here is never closed by `---`")]
    try:
        loaded = load_yaml("\n".join(lines[1:close]), path)
    except YamlProblem as exc:
        problem = exc.problem
        return None, close, [Problem(path, problem.line + 1, problem.message)]
    if not isinstance(loaded.data, dict):
        wanted = "a mapping with title, services and alerts"
        return None, close, [Problem(path, 2, f"front matter must be {wanted}")]
    try:
        front = FrontMatter.model_validate(loaded.data)
    except ValidationError as exc:
        found = [_front_matter_problem(path, loaded, err, 1) for err in exc.errors()]
        return None, close, found
    seen: set[str] = set()
    for index, action in enumerate(front.actions):
        if action.id in seen:
            line = loaded.lines.line(("actions", index, "id"), key=True) + 1
            return None, close, [at(path, line, ("actions", index, "id"), "repeats an id")]
        seen.add(action.id)
    return front, close, []


# --- the triage tree ---------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)[\s#]*$")
_BULLET = re.compile(r"^(?P<indent>\s*)[-*+]\s+(?P<text>.*)$")
_BRANCH = re.compile(r"^If\s+(?P<symptom>.+?)\s*(?:→|->)\s*(?P<action>.*)$", re.IGNORECASE)
_ACTION = re.compile(r"^(?P<kind>[A-Za-z][A-Za-z _-]*?)\s*:\s*(?P<text>\S.*)$")
_SHAPE = "`- If <symptom> → <kind>: <action>`"
_KINDS = ", ".join(k.value for k in ActionKind)


@dataclass
class _Draft:
    symptom: str
    kind: ActionKind
    text: str
    indent: int
    children: list[_Draft] = field(default_factory=list)

    def freeze(self) -> Branch:
        children = tuple(c.freeze() for c in self.children)
        return Branch(self.symptom, self.kind, self.text, children)


def _action_kind(word: str) -> ActionKind | None:
    normal = " ".join(word.lower().replace("-", " ").replace("_", " ").split())
    try:
        return ActionKind(normal)
    except ValueError:
        return _KIND_ALIASES.get(normal)


def _branch(text: str, indent: int, path: str, line: int) -> _Draft | Problem:
    matched = _BRANCH.match(text)
    if matched is None:
        return Problem(path, line, f"triage bullets must read {_SHAPE}; got {text!r}")
    action = _ACTION.match(matched["action"].strip())
    if action is None:
        return Problem(path, line, f"action must start with its kind ({_KINDS}) and a colon")
    kind = _action_kind(action["kind"])
    if kind is None:
        return Problem(path, line, f"unknown action kind {action['kind']!r} (known: {_KINDS})")
    return _Draft(matched["symptom"], kind, action["text"].strip(), indent)


def _indent(text: str) -> int:
    return len(text.expandtabs(4)) - len(text.expandtabs(4).lstrip())


def _triage_lines(lines: list[str], first: int) -> tuple[list[tuple[int, str]], int | None]:
    """The (file line, text) pairs of the Triage section and its heading's line, if any."""
    start = None
    for index, text in enumerate(lines):
        heading = _HEADING.match(text)
        if heading is None:
            continue
        if start is not None and len(heading[1]) <= 2:
            return [(first + i, lines[i]) for i in range(start + 1, index)], first + start
        if start is None and len(heading[1]) == 2 and heading[2].lower().startswith("triage"):
            start = index
    if start is None:
        return [], None
    return [(first + i, lines[i]) for i in range(start + 1, len(lines))], first + start


def _parse_triage(section: list[tuple[int, str]], path: str) -> tuple[list[_Draft], list[Problem]]:
    roots: list[_Draft] = []
    problems: list[Problem] = []
    last: _Draft | None = None
    in_code = False
    for line, text in section:
        if text.strip().startswith("```"):
            in_code, last = not in_code, None
            continue
        bullet = _BULLET.match(text)
        if in_code or not text.strip():
            continue
        if bullet is None:
            if last is not None and _indent(text) > last.indent:
                last.text = f"{last.text} {text.strip()}"
            else:
                last = None  # prose between branches
            continue
        indent = _indent(bullet["indent"])
        found = _branch(bullet["text"].strip(), indent, path, line)
        if isinstance(found, Problem):
            problems.append(found)
            last = None
        elif not roots or indent <= roots[0].indent:
            roots.append(found)
            last = found
        elif roots[-1].children and indent > roots[-1].children[0].indent:
            problems.append(Problem(path, line, "only one level of sub-branches is supported"))
            last = None
        else:
            roots[-1].children.append(found)
            last = found
    return roots, problems


# --- files and the index -----------------------------------------------------------------


def parse_runbook(text: str, path: str) -> Runbook:
    """Parse one runbook's text (shown as `path`); raise ConfigError listing every problem."""
    front, close, problems = _split_front_matter(text, path)
    lines = text.splitlines()
    body_lines = lines[close + 1 :] if close >= 0 else []
    section, heading = _triage_lines(body_lines, close + 2)
    if close >= 0 and heading is None:
        problems.append(Problem(path, 1, f"no `## Triage` section with {_SHAPE} lines"))
    roots, found = _parse_triage(section, path)
    problems += found
    if heading is not None and not roots and not found:
        problems.append(Problem(path, heading, f"the Triage section has no {_SHAPE} lines"))
    if problems or front is None:
        raise ConfigError(sorted(problems))
    return Runbook(
        path=path,
        title=front.title.strip(),
        services=tuple(front.services),
        alerts=tuple(front.alerts),
        triage=tuple(r.freeze() for r in roots),
        body="\n".join(body_lines).strip("\n"),
        severity_hint=front.severity_hint,
        actions=tuple(a.to_action() for a in front.actions),
    )


def runbook_files(directory: Path) -> list[Path]:
    """The `*.md` files directly in `directory`, by name; dotfiles and README.md are skipped."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix.lower() == ".md"
        and not p.name.startswith(".")
        and p.name.lower() not in SKIPPED_FILES
        and p.is_file()
    )


def load_runbooks(directory: str | os.PathLike[str]) -> RunbookIndex:
    """Load every runbook in `directory`; raise ConfigError with every problem in every file."""
    root, shown = Path(directory), display_path(directory)
    if not root.is_dir():
        raise ConfigError([Problem(shown, 1, "no such directory of runbooks")])
    runbooks: list[Runbook] = []
    problems: list[Problem] = []
    for file in runbook_files(root):
        name = display_path(file)
        try:
            runbooks.append(parse_runbook(file.read_text(encoding="utf-8-sig"), name))
        except ConfigError as exc:
            problems += exc.problems
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, 1, f"cannot read runbook: {exc}"))
    if problems:
        raise ConfigError(sorted(problems))
    return RunbookIndex(tuple(runbooks))
