"""Decide which kind of file a YAML document is, validate it, and word pydantic's errors."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.config.alerts import AlertsFile
from bot.config.drills import DrillsFile
from bot.config.models import ConfigFile, PolicyFile, SchedulesFile, SeveritiesFile
from bot.config.people import PeopleFile
from bot.config.problems import KeyPath, Problem, at
from bot.config.services import ServicesFile
from bot.config.yamlmap import Loaded

EXPECTED = (
    "expected a policy (top-level name and steps), "
    "or a top-level `schedules:`, `severities:`, `alert_sources:`, `drills:`, `self_test:`, "
    "`pagerduty:`, `webhooks:` or `people:` mapping"
)


class Kind(StrEnum):
    POLICY = "policy"
    SCHEDULES = "schedules"
    SEVERITIES = "severities"
    ALERTS = "alerts"
    DRILLS = "drills"
    SERVICES = "services"  # pagerduty: and webhooks: (bot.config.services)
    PEOPLE = "people"


MODELS: dict[Kind, type[BaseModel]] = {
    Kind.POLICY: PolicyFile,
    Kind.SCHEDULES: SchedulesFile,
    Kind.SEVERITIES: SeveritiesFile,
    Kind.ALERTS: AlertsFile,
    Kind.DRILLS: DrillsFile,
    Kind.SERVICES: ServicesFile,
    Kind.PEOPLE: PeopleFile,
}


@dataclass(frozen=True)
class Checked:
    """One file after shape validation; `model` is None when its shape was wrong."""

    path: str
    kind: Kind
    loaded: Loaded
    model: ConfigFile | None


def kind_of(data: object) -> Kind | None:
    """The kind of config a document looks like, from its top-level keys."""
    if not isinstance(data, Mapping):
        return None
    if "steps" in data or "name" in data:
        return Kind.POLICY
    if "schedules" in data:
        return Kind.SCHEDULES
    if "severities" in data:
        return Kind.SEVERITIES
    if "alert_sources" in data:
        return Kind.ALERTS
    if "drills" in data or "self_test" in data:
        return Kind.DRILLS
    if "pagerduty" in data or "webhooks" in data:
        return Kind.SERVICES
    if "people" in data or "defaults" in data:
        return Kind.PEOPLE
    return None


def check_file(path: str, loaded: Loaded) -> tuple[Checked | None, list[Problem]]:
    """Classify and validate one document; return it with the problems found in it."""
    if loaded.data is None:
        return None, [Problem(path, 1, f"file is empty; {EXPECTED}")]
    kind = kind_of(loaded.data)
    if kind is None:
        return None, [Problem(path, 1, f"not a Tocsin config file: {EXPECTED}")]
    model_class = MODELS[kind]
    try:
        model: Any = model_class.model_validate(loaded.data)
    except ValidationError as exc:
        problems = [_problem(path, loaded, model_class, err) for err in exc.errors()]
        return Checked(path, kind, loaded, None), problems
    return Checked(path, kind, loaded, model), []


def show(value: object) -> str:
    """A short rendering of a YAML value for a message."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
}


def _problem(path: str, loaded: Loaded, model: type[BaseModel], err: Mapping[str, Any]) -> Problem:
    loc: KeyPath = tuple(err["loc"])
    kind, value = err["type"], err.get("input")
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        message = f"key {show(loc[-1] if loc else value)} must be text (quote it)"
        if kind == "value_error":  # a key of the right type, but not a valid one
            message = str(err["msg"]).removeprefix("Value error, ")
        return at(path, loaded.lines.line(loc, key=True), loc[:-1], message)
    if kind == "missing":
        return at(path, loaded.lines.line(loc[:-1]), loc[:-1], f"missing key {loc[-1]!r}")
    if kind == "extra_forbidden":
        allowed = ", ".join(_fields_at(model, loc[:-1])) or "none"
        message = f"unknown key (allowed here: {allowed})"
        return at(path, loaded.lines.line(loc, key=True), loc, message)
    if kind == "value_error":
        message = str(err["msg"]).removeprefix("Value error, ")
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {show(value)}"
    elif kind == "too_short":
        message = "must not be empty"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        message = f"{show(value)} is out of range: {_range(model, loc) or err['msg']}"
    elif kind == "recursion_loop":
        message = "refers to itself (a recursive YAML alias)"
    else:
        message = str(err["msg"])
    return at(path, loaded.lines.line(loc), loc, message)


def _range(model: type[BaseModel], loc: KeyPath) -> str:
    if loc == ("repeat",) and model is PolicyFile:
        return "must be 0–9"
    if loc[-1:] == ("users_affected_pct",):
        return "must be 0–100"
    if loc[-1:] == ("latency_ms",):
        return "must be above 0"
    return ""


def _fields_at(model: type[BaseModel], loc: KeyPath) -> list[str]:
    """Names of the keys allowed by the model found at `loc` inside `model`."""
    current: Any = model
    for item in loc:
        current = _step(current, item)
    found = _as_model(current)
    return list(found.model_fields) if found is not None else []


def _step(annotation: Any, item: object) -> Any:
    """The annotation one key or index deeper, or None."""
    annotation = _strip_optional(annotation)
    model = _as_model(annotation)
    if model is not None:
        info = model.model_fields.get(item) if isinstance(item, str) else None
        return info.annotation if info is not None else None
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is list and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return annotation


def _as_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
