"""Notification rules: how each person is reached when paged, and when each method starts.

A person (escalation_policies/people.yaml) has contact addresses (email, phone) and rules
`[{after, via}]`: on every page to them, `via` starts `after` the page, until somebody
acknowledges. Whoever the file does not list, or lists without rules, gets its defaults;
without a file, everyone is paged by Slack alone, at once (what Tocsin always did).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.domain.durations import DurationError, format_duration, parse_duration

SLACK = "slack"
PHONE_METHODS = ("sms", "voice")
METHODS = (SLACK, "sms", "voice", "email")  # and "apprise:<url>"
APPRISE = "apprise"
MAX_OWN_RULES = 10  # a person's own rules, from the App Home (parse_rules)


def method_of(via: str) -> str:
    """The method a rule's `via` names: `apprise:ntfys://…` -> `apprise`, `sms` -> `sms`."""
    return APPRISE if via.startswith(f"{APPRISE}:") else via


def via_problem(via: str) -> str | None:
    """Why `via` is not a method a rule may name, or None when it is one."""
    if via in METHODS:
        return None
    if via.startswith(f"{APPRISE}:"):
        url = via.removeprefix(f"{APPRISE}:")
        return None if "://" in url else f"{via!r}: give an Apprise URL after apprise:"
    return f"{via!r} is not a method: use slack, sms, voice, email or apprise:<url>"


@dataclass(frozen=True)
class Rule:
    """Start `via` `after_s` seconds after the page."""

    after_s: float
    via: str

    @property
    def method(self) -> str:
        return method_of(self.via)


SLACK_ONLY = (Rule(0.0, SLACK),)


@dataclass(frozen=True)
class Person:
    """A person's contact addresses and own rules (empty: the file's defaults apply)."""

    key: str  # as the file names them: a Slack user id or an email address
    email: str | None = None
    phone: str | None = None
    rules: tuple[Rule, ...] = ()

    def address(self, rule: Rule, user: str) -> str | None:
        """Where `rule` reaches this person (`user` when paged on Slack); None: nowhere."""
        method = rule.method
        if method == SLACK:
            return user
        if method in PHONE_METHODS:
            return self.phone
        if method == "email":
            return self.email
        return rule.via.removeprefix(f"{APPRISE}:")


@dataclass(frozen=True)
class Send:
    """One send owed for a page: `method` to `address`, not before `due_at` (POSIX s).

    `slot` names it among the person's sends of the page (the method, numbered when a
    person has several rules of one method), for its outbox key."""

    method: str
    address: str
    due_at: float
    slot: str


@dataclass(frozen=True)
class People:
    """Everyone the people file lists, and the rules of everyone else."""

    people: Mapping[str, Person] = field(default_factory=dict)
    defaults: tuple[Rule, ...] = SLACK_ONLY

    def __post_init__(self) -> None:
        object.__setattr__(self, "people", MappingProxyType(dict(self.people)))

    def person(self, user: str, email_of: Callable[[str], str | None] | None = None) -> Person:
        """The person paged as Slack user `user`: listed by id, else by an email address
        that `email_of` (the directory) says is theirs, else nobody in particular."""
        found = self.people.get(user)
        if found is not None:
            return found
        if email_of is not None:
            for key, listed in self.people.items():
                if "@" in key and email_of(key) == user:
                    return listed
        return Person(user)

    def rules(self, person: Person) -> tuple[Rule, ...]:
        return person.rules or self.defaults


def missing_address(person: Person, rule: Rule) -> str | None:
    """Why `person` cannot be reached by `rule` (no phone for sms, no email address), or
    None when they can."""
    if rule.method in PHONE_METHODS and person.phone is None:
        return f"{rule.via} needs a phone"
    if rule.method == "email" and person.email is None:
        return "email needs an address"
    return None


def parse_after(text: str) -> float:
    """A rule's delay in seconds: `0m` (at once), `90s`, `2m`, `1h`; DurationError otherwise."""
    if text.strip() in ("0", "0s", "0m"):
        return 0.0  # at once: a duration elsewhere is never zero, a rule's delay may be
    return parse_duration(text).total_seconds()


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Rules written as a person types them in the App Home: `0m slack, 2m sms, 5m voice`
    (each a delay and a method, separated by commas or new lines); ValueError saying which
    one is wrong and why. At most MAX_OWN_RULES: each rule is a send on every page (the
    form's 500 characters would otherwise fit some seventy `0m sms`)."""
    rules = []
    for part in (p.strip() for p in text.replace("\n", ",").split(",")):
        if not part:
            continue
        after, _, via = part.partition(" ")
        via = via.strip()
        try:
            seconds = parse_after(after)
        except DurationError:
            raise ValueError(f"{part!r}: start with a delay like 0m, 90s or 2m") from None
        problem = via_problem(via) if via else "name a method after the delay"
        if problem:
            raise ValueError(f"{part!r}: {problem}")
        rules.append(Rule(seconds, via))
    if not rules:
        raise ValueError("give at least one rule, like: 0m slack, 3m email")
    if len(rules) > MAX_OWN_RULES:
        raise ValueError(f"{len(rules)} rules: give at most {MAX_OWN_RULES}")
    return tuple(rules)


def rules_text(rules: tuple[Rule, ...]) -> str:
    """Rules as `parse_rules` reads them: `0m slack, 2m sms`."""
    return ", ".join(
        f"{'0m' if r.after_s == 0 else format_duration(r.after_s)} {r.via}" for r in rules
    )


def sends(people: People, person: Person, user: str, paged_at: float) -> list[Send]:
    """The sends one page to `person` (Slack user `user`) owes, earliest first: each rule
    with an address, once per (method, address). A rule this person has no address for (a
    default naming email for someone without one) is left out; if none is left, Slack."""
    owed: list[Send] = []
    seen: set[tuple[str, str]] = set()
    counts: dict[str, int] = {}
    for rule in sorted(people.rules(person), key=lambda r: r.after_s):
        address = person.address(rule, user)
        if address is None or (rule.method, address) in seen:
            continue
        seen.add((rule.method, address))
        counts[rule.method] = counts.get(rule.method, 0) + 1
        n = counts[rule.method]
        slot = rule.method if n == 1 else f"{rule.method}{n}"
        owed.append(Send(rule.method, address, paged_at + rule.after_s, slot))
    return owed or [Send(SLACK, user, paged_at, SLACK)]
