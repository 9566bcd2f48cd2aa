"""The model of `people.yaml` (top-level `people:` and `defaults:`): how each person is paged.

A rule naming sms or voice for a person without a phone, or email for one without an
address, is reported at the rule's line (`address_problems`, run with the checks across
files). The defaults may name email: whoever has no address is simply not emailed.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.config.fields import duration_text
from bot.config.problems import Problem, at
from bot.config.yamlmap import LineMap
from bot.domain.notify import (
    PHONE_METHODS,
    People,
    Person,
    Rule,
    missing_address,
    parse_after,
    via_problem,
)

PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # E.164
USER_PATTERN = r"^[UW][A-Z0-9]{2,}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _after(value: object) -> str:
    if isinstance(value, str) and value.strip() in ("0", "0s", "0m"):
        return "0s"  # at once: a duration elsewhere is never zero, a rule's delay may be
    return duration_text(value)


def _via(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    problem = via_problem(text) if isinstance(value, str) else via_problem(f"<{text}>")
    if problem:
        raise ValueError(problem)
    return text


def _email(value: object) -> str:
    if isinstance(value, str) and re.match(EMAIL_PATTERN, value):
        return value
    raise ValueError(f"{value!r} is not an email address like alice@example.com")


def _phone(value: object) -> str:
    if isinstance(value, str) and re.match(PHONE_PATTERN, value):
        return value
    raise ValueError(f'{value!r} is not a phone number in E.164 form, quoted: "+4930123456"')


def _person_key(value: object) -> str:
    text = value if isinstance(value, str) else ""
    if re.match(USER_PATTERN, text) or re.match(EMAIL_PATTERN, text):
        return text
    raise ValueError(f"{value!r} is neither a Slack user id (U0ALICE01) nor an email address")


After = Annotated[
    str,
    BeforeValidator(_after),
    Field(description="How long after the page this method starts: 0m, 90s, 2m, 1h."),
]
Via = Annotated[
    str,
    BeforeValidator(_via),
    Field(description="slack, sms, voice, email, or apprise:<an Apprise URL>."),
]
Email = Annotated[str, BeforeValidator(_email), Field(pattern=EMAIL_PATTERN)]
Phone = Annotated[
    str,
    BeforeValidator(_phone),
    Field(pattern=PHONE_PATTERN, description='E.164, quoted: "+4930123456".'),
]
PersonKey = Annotated[
    str,
    BeforeValidator(_person_key),
    Field(description="A Slack user id, or the email address of their Slack account."),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RuleModel(_Model):
    """Start paging by `via`, `after` the page, until somebody acknowledges."""

    after: After = "0s"
    via: Via

    def to_rule(self) -> Rule:
        return Rule(parse_after(self.after), self.via)


class PersonModel(_Model):
    """One person's addresses and rules (none: the defaults)."""

    email: Email | None = None
    phone: Phone | None = None
    notify: list[RuleModel] = Field(default_factory=list)

    def to_person(self, key: str) -> Person:
        email = self.email or (key if "@" in key else None)
        return Person(key, email, self.phone, tuple(r.to_rule() for r in self.notify))


class DefaultsModel(_Model):
    """The rules of everyone not listed, or listed without `notify:`."""

    notify: list[RuleModel] = Field(min_length=1)


class PeopleFile(_Model):
    """`people.yaml`: how each person is paged (Slack, SMS, a call, email, Apprise)."""

    model_config = ConfigDict(title="People and their notification rules")

    people: dict[PersonKey, PersonModel] = Field(default_factory=dict)
    defaults: DefaultsModel | None = None

    def to_people(self) -> People:
        people = {key: person.to_person(key) for key, person in self.people.items()}
        if self.defaults is None:
            return People(people)
        return People(people, tuple(r.to_rule() for r in self.defaults.notify))


def address_problems(path: str, lines: LineMap, model: PeopleFile) -> list[Problem]:
    """A person's rule naming a method they have no address for, at the rule's line."""
    problems = []
    for key, listed in model.people.items():
        person = listed.to_person(key)
        for n, rule in enumerate(person.rules):
            missing = missing_address(person, rule)
            if missing is None:
                continue
            where = ("people", key, "notify", n)
            what = "phone" if rule.method in PHONE_METHODS else "email"
            message = f"{missing}: add {what}: to {key}"
            problems.append(at(path, lines.line((*where, "via")), where, message))
    return problems
