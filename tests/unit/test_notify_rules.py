"""Notification rules: people.yaml's checks (path:line) and the sends a page owes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, json_schema, load_catalog
from bot.domain.notify import (
    SLACK,
    People,
    Person,
    Rule,
    missing_address,
    parse_rules,
    rules_text,
    sends,
)

ROOT = Path(__file__).resolve().parents[2]
POLICY = "name: web\nservices: [web]\nsteps:\n  - notify: [user:U0LEAD1]\n    wait: 5m\n"
SEVERITIES = "severities:\n  sev1: {label: Outage, update_every: 15m}\n"


def _load(tmp_path: Path, people: str | None) -> People:
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "severities.yaml").write_text(SEVERITIES)
    if people is not None:
        (tmp_path / "people.yaml").write_text(people)
    return load_catalog(tmp_path).people


def _problems(tmp_path: Path, people: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, people)
    return [str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems]


class TestPeopleFile:
    def test_without_a_file_everyone_is_paged_by_slack_at_once(self, tmp_path: Path) -> None:
        """No people.yaml: every page is one Slack DM, sent when the page is (today's paging)."""
        people = _load(tmp_path, None)
        person = people.person("U0ALICE01")
        assert sends(people, person, "U0ALICE01", 100.0) == [
            sends(People(), Person("x"), "U0ALICE01", 100.0)[0]
        ]
        assert [
            (s.method, s.address, s.due_at) for s in sends(people, person, "U0ALICE01", 100.0)
        ] == [(SLACK, "U0ALICE01", 100.0)]

    def test_people_by_id_or_email_with_rules_and_defaults(self, tmp_path: Path) -> None:
        """The issue's example loads: alice's own rules, bob (by email) his, anyone else the defaults."""
        people = _load(tmp_path, (ROOT / "escalation_policies/people.yaml").read_text())
        alice = people.person("U0ALICE01")
        assert alice.phone == "+4930123456"
        owed = [(s.method, s.address, s.due_at) for s in sends(people, alice, "U0ALICE01", 0.0)]
        assert owed == [
            ("slack", "U0ALICE01", 0.0),
            ("apprise", "ntfys://ntfy.example.com/alice-oncall", 0.0),
            ("sms", "+4930123456", 120.0),
            ("voice", "+4930123456", 300.0),
        ]
        bob = people.person("U0BOB0001", {"bob@example.com": "U0BOB0001"}.get)
        assert bob.email == "bob@example.com"
        assert [s.method for s in sends(people, bob, "U0BOB0001", 0.0)] == ["slack", "sms", "email"]
        carol = people.person("U0CAROL01")  # listed without rules: the defaults, at her address
        owed = [(s.method, s.address, s.due_at) for s in sends(people, carol, "U0CAROL01", 0.0)]
        assert owed == [("slack", "U0CAROL01", 0.0), ("email", "carol@example.com", 180.0)]
        # not listed: the defaults, but no address to email
        dave = people.person("U0DAVE001")
        assert [s.method for s in sends(people, dave, "U0DAVE001", 0.0)] == ["slack"]

    def test_a_rule_without_its_address_is_an_error_at_the_rules_line(self, tmp_path: Path) -> None:
        """sms/voice need a phone and email an address: `tocsin check` names the rule's line."""
        found = _problems(
            tmp_path,
            "people:\n"
            "  U0ALICE01:\n"
            "    notify:\n"
            "      - {after: 0m, via: slack}\n"
            "      - {after: 2m, via: sms}\n"
            "      - after: 3m\n"
            "        via: email\n",
        )
        assert found == [
            "people.yaml:5: people.U0ALICE01.notify[1]: sms needs a phone: add phone: to U0ALICE01",
            "people.yaml:7: people.U0ALICE01.notify[2]: email needs an address: add email: to U0ALICE01",
        ]

    def test_bad_values_are_named_where_they_are(self, tmp_path: Path) -> None:
        """An unknown method, a duration without a unit, a bad phone and a bad person key."""
        found = _problems(
            tmp_path,
            "people:\n"
            "  U0ALICE01:\n"
            "    phone: 4930123456\n"
            "    notify: [{after: 5, via: pigeon}]\n"
            "  alice:\n"
            "    email: alice@example.com\n",
        )
        assert found == [
            "people.yaml:3: people.U0ALICE01.phone: 4930123456 is not a phone number in E.164 form, "
            'quoted: "+4930123456"',
            "people.yaml:4: people.U0ALICE01.notify[0].after: 5 is not a duration; add a unit, "
            "like 5m or 5s",
            "people.yaml:4: people.U0ALICE01.notify[0].via: 'pigeon' is not a method: use slack, "
            "sms, voice, email or apprise:<url>",
            "people.yaml:5: people: 'alice' is neither a Slack user id (U0ALICE01) nor an email "
            "address",
        ]

    def test_the_schema_describes_people_files(self) -> None:
        """`tocsin schema` covers people.yaml: its rules' `via` and `after` are described."""
        defs = json_schema()["$defs"]
        assert defs["RuleModel"]["properties"]["via"]["description"]
        assert set(defs["PeopleFile"]["properties"]) == {"people", "defaults"}


_RULES = st.lists(
    st.builds(
        Rule,
        st.sampled_from([0.0, 30.0, 120.0, 300.0]),
        st.sampled_from(
            ["slack", "sms", "voice", "email", "apprise:ntfy://x/a", "apprise:tgram://b"]
        ),
    ),
    max_size=6,
)


@given(_RULES, st.booleans(), st.booleans(), st.floats(0, 2e9))
def test_sends_are_ordered_once_per_method_and_address_and_never_empty(
    rules: list[Rule], phone: bool, email: bool, at: float
) -> None:
    """Whatever the rules: earliest first, never before the page, one per (method, address),
    slots unique, only methods the person has an address for, and at least the Slack DM."""
    person = Person("U1", "u@example.com" if email else None, "+4930123456" if phone else None)
    people = People({"U1": Person("U1", person.email, person.phone, tuple(rules))})
    owed = sends(people, people.person("U1"), "U1", at)
    assert owed
    assert [s.due_at for s in owed] == sorted(s.due_at for s in owed)
    assert all(s.due_at >= at for s in owed)
    assert len({(s.method, s.address) for s in owed}) == len(owed)
    assert len({s.slot for s in owed}) == len(owed)
    if not phone:
        assert not {"sms", "voice"} & {s.method for s in owed}
    if not email:
        assert "email" not in {s.method for s in owed}


class TestRulesTypedInTheAppHome:
    def test_rules_read_back_as_written(self) -> None:
        """`0m slack, 2m sms` parses to rules and prints back the same."""
        rules = parse_rules("0m slack, 2m sms\n1h30m email, 90s apprise:ntfys://n.example/a")
        assert rules == (
            Rule(0.0, "slack"),
            Rule(120.0, "sms"),
            Rule(5400.0, "email"),
            Rule(90.0, "apprise:ntfys://n.example/a"),
        )
        assert parse_rules(rules_text(rules)) == rules

    def test_each_mistake_is_named(self) -> None:
        """A missing delay, an unknown method, nothing at all or too many says what is wrong."""
        for text, expected in [
            ("slack", "'slack': start with a delay like 0m, 90s or 2m"),
            ("2m pigeon", "'2m pigeon': 'pigeon' is not a method"),
            ("2m", "'2m': name a method after the delay"),
            (" , ", "give at least one rule"),
            (", ".join(["0m sms"] * 70), "70 rules: give at most 10"),
        ]:
            with pytest.raises(ValueError, match=re.escape(expected)):
                parse_rules(text)

    def test_a_rule_without_an_address_is_named(self) -> None:
        """sms or voice without a phone, email without an address."""
        nobody = Person("U1")
        assert missing_address(nobody, Rule(0, "voice")) == "voice needs a phone"
        assert missing_address(nobody, Rule(0, "email")) == "email needs an address"
        assert missing_address(nobody, Rule(0, "slack")) is None
