"""Runbooks: front matter, the triage tree, lookups, and their Block Kit rendering."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.config.loader import display_path
from bot.config.problems import ConfigError
from bot.config.runbooks import (
    ActionKind,
    Branch,
    Runbook,
    RunbookIndex,
    load_runbooks,
    parse_runbook,
)
from bot.render.runbook import runbook_blocks, runbook_text

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "runbooks"
EXAMPLE_SERVICES = ("checkout", "payments-api", "api-gateway", "auth")

GOOD = """\
---
title: Checkout errors
services: [checkout]
alerts: [CheckoutErrorRateHigh]
---
# Checkout errors

## Triage
- If errors rose after a deploy → roll back: `deployctl rollback checkout`
  - If the rollback fails -> escalate: page the release manager
- If traffic spiked -> reduce traffic: rate limit at the edge
  with `edgectl ratelimit set checkout`

## Verify
- Errors below 1% for 10 minutes.
"""


def problems_of(text: str, path: str = "runbooks/x.md") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_runbook(text, path)
    return [str(p) for p in caught.value.problems]


def runbook(**changes: Any) -> Runbook:
    base = parse_runbook(GOOD, "runbooks/good.md")
    return replace(base, **changes)


def validated(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every block parses back into a slack_sdk model and passes its limit checks."""
    for raw in blocks:
        model = Block.parse(raw)
        assert model is not None, raw
        model.validate_json()
    return blocks


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = [b["text"]["text"] for b in blocks if b.get("text", {}).get("type") == "mrkdwn"]
    texts += [e["text"] for b in blocks for e in b.get("elements", []) if e["type"] == "mrkdwn"]
    return texts


class TestShippedRunbooks:
    def test_every_shipped_runbook_loads_with_a_typed_triage_tree(self) -> None:
        """Each file in runbooks/ loads, and has branches whose actions are typed and non-empty."""
        index = load_runbooks(SHIPPED)
        assert len(index.all()) >= 2
        for book in index.all():
            assert book.triage, book.path
            for branch in (*book.triage, *(c for b in book.triage for c in b.children)):
                assert isinstance(branch.action_kind, ActionKind)
                assert branch.symptom.strip()
                assert branch.action_text.strip()

    def test_every_example_service_has_a_specific_runbook(self) -> None:
        """The services of escalation_policies/ each find a runbook naming them, not the default."""
        index = load_runbooks(SHIPPED)
        for service in EXAMPLE_SERVICES:
            found = index.for_service(service)
            assert found is not None
            assert service in found.services

    def test_shipped_runbooks_render_within_slack_limits(self) -> None:
        """Every shipped runbook renders to blocks that slack_sdk validates."""
        for book in load_runbooks(SHIPPED).all():
            assert len(validated(runbook_blocks(book))) <= 50


class TestFrontMatter:
    def test_good_front_matter_is_read(self) -> None:
        """Title, services, alerts and the optional severity hint come from the front matter."""
        book = parse_runbook(GOOD.replace("alerts:", "severity_hint: sev2\nalerts:"), "r.md")
        assert (book.title, book.services, book.alerts) == (
            "Checkout errors",
            ("checkout",),
            ("CheckoutErrorRateHigh",),
        )
        assert book.severity_hint == "sev2"
        assert book.body.startswith("# Checkout errors")

    def test_wrong_types_and_unknown_keys_name_file_line_and_key(self) -> None:
        """Line numbers count from the file's first line (the opening `---`)."""
        text = GOOD.replace("services: [checkout]", "services: checkout").replace(
            "alerts: [CheckoutErrorRateHigh]", "alerts: [A, 42]\ncolour: red"
        )
        assert problems_of(text) == [
            "runbooks/x.md:3: services: expected a list, got 'checkout'",
            "runbooks/x.md:4: alerts[1]: expected text, got 42",
            "runbooks/x.md:5: colour: unknown key (allowed: title, services, alerts, "
            "severity_hint, actions)",
        ]

    def test_missing_and_empty_keys_are_reported(self) -> None:
        """A missing title and an empty services list each give a problem."""
        text = GOOD.replace("title: Checkout errors\n", "").replace("[checkout]", "[]")
        assert problems_of(text) == [
            "runbooks/x.md:2: missing key 'title'",
            "runbooks/x.md:2: services: must not be empty",
        ]

    def test_yaml_syntax_error_line_is_shifted_to_the_file(self) -> None:
        """A YAML error inside the front matter is reported at its line in the file."""
        text = GOOD.replace("alerts: [CheckoutErrorRateHigh]", "alerts: [unclosed")
        (problem,) = problems_of(text)
        assert problem.startswith("runbooks/x.md:4: YAML syntax error")

    def test_missing_or_unclosed_front_matter_is_an_error(self) -> None:
        """A file must open with `---` and close the front matter with another `---`."""
        assert problems_of("# Title\n") == [
            "runbooks/x.md:1: no front matter: the file must start with `---`"
        ]
        assert problems_of("---\ntitle: x\n") == [
            "runbooks/x.md:1: front matter opened here is never closed by `---`"
        ]

    def test_front_matter_that_is_not_a_mapping_is_an_error(self) -> None:
        """A list as front matter is rejected at its first line."""
        text = "---\n- a\n---\n## Triage\n- If x → investigate: y\n"
        assert problems_of(text) == [
            "runbooks/x.md:2: front matter must be a mapping with title, services and alerts"
        ]


class TestTriage:
    def test_both_arrows_children_and_continuations_parse(self) -> None:
        """`→` and `->` both split symptom from action; sub-bullets and wrapped lines attach."""
        book = parse_runbook(GOOD, "r.md")
        assert book.triage == (
            Branch(
                "errors rose after a deploy",
                ActionKind.ROLL_BACK,
                "`deployctl rollback checkout`",
                (Branch("the rollback fails", ActionKind.ESCALATE, "page the release manager"),),
            ),
            Branch(
                "traffic spiked",
                ActionKind.REDUCE_TRAFFIC,
                "rate limit at the edge with `edgectl ratelimit set checkout`",
            ),
        )

    def test_action_kinds_are_matched_loosely(self) -> None:
        """Kinds ignore case, hyphens and doubled spaces; `rollback` is accepted."""
        for written in ("Roll-Back", "roll  back", "rollback", "ROLL BACK"):
            text = GOOD.replace("roll back:", f"{written}:")
            assert parse_runbook(text, "r.md").triage[0].action_kind is ActionKind.ROLL_BACK

    def test_missing_triage_section_is_an_error_naming_the_file(self) -> None:
        """A runbook without `## Triage` is rejected."""
        text = GOOD.replace("## Triage", "## Steps")
        assert problems_of(text) == [
            "runbooks/x.md:1: no `## Triage` section with `- If <symptom> → <kind>: <action>` lines"
        ]

    def test_empty_triage_section_is_an_error_at_its_heading(self) -> None:
        """A Triage heading with no branches under it is rejected at the heading's line."""
        text = GOOD.split("## Triage")[0] + "## Triage\nSome prose only.\n"
        assert problems_of(text) == [
            "runbooks/x.md:8: the Triage section has no `- If <symptom> → <kind>: <action>` lines"
        ]

    def test_bad_branches_are_reported_at_their_lines(self) -> None:
        """Unknown kinds, missing kinds, non-`If` bullets and deep nesting each name their line."""
        text = GOOD.split("## Triage")[0] + (
            "## Triage\n"
            "- If a → restart: the pod\n"
            "- If b → just do it\n"
            "- Check the dashboard\n"
            "- If c → investigate: d\n"
            "  - If e → escalate: f\n"
            "    - If g → escalate: h\n"
        )
        assert problems_of(text) == [
            "runbooks/x.md:9: unknown action kind 'restart' (known: reduce traffic, roll back, "
            "degraded mode, escalate, investigate)",
            "runbooks/x.md:10: action must start with its kind (reduce traffic, roll back, "
            "degraded mode, escalate, investigate) and a colon",
            "runbooks/x.md:11: triage bullets must read `- If <symptom> → <kind>: <action>`; "
            "got 'Check the dashboard'",
            "runbooks/x.md:14: only one level of sub-branches is supported",
        ]

    def test_code_blocks_and_later_sections_are_not_triage(self) -> None:
        """Bullets inside a fenced block or under the next `##` heading are not branches."""
        text = GOOD.replace("## Verify", "```\n- not a branch\n```\n## Verify")
        assert len(parse_runbook(text, "r.md").triage) == 2


class TestRunbookIndex:
    def books(self) -> RunbookIndex:
        return RunbookIndex(
            (
                runbook(path="a.md", services=("*",), alerts=("*",)),
                runbook(path="b.md", services=("checkout",), alerts=("Checkout*",)),
                runbook(path="c.md", services=("checkout", "auth"), alerts=("CheckoutDown",)),
            )
        )

    def test_exact_service_beats_the_default(self) -> None:
        """A runbook naming the service wins over `*`, even when `*` comes first."""
        index = self.books()
        assert index.for_service("checkout").path == "b.md"  # type: ignore[union-attr]
        assert index.for_service("auth").path == "c.md"  # type: ignore[union-attr]
        assert index.for_service("billing").path == "a.md"  # type: ignore[union-attr]
        assert RunbookIndex().for_service("checkout") is None

    def test_alerts_match_exactly_then_by_pattern_then_catch_all(self) -> None:
        """An exact alert name beats an fnmatch pattern, which beats the catch-all `*`."""
        index = self.books()
        assert index.for_alert("CheckoutDown").path == "c.md"  # type: ignore[union-attr]
        assert index.for_alert("CheckoutSlow").path == "b.md"  # type: ignore[union-attr]
        assert index.for_alert("DiskFull").path == "a.md"  # type: ignore[union-attr]
        assert RunbookIndex(self.books().all()[1:]).for_alert("DiskFull") is None

    def test_load_collects_problems_from_every_file_and_skips_readme(self, tmp_path: Path) -> None:
        """Every broken file is reported; README.md and non-Markdown files are not runbooks."""
        (tmp_path / "README.md").write_text("# About these runbooks\n")
        (tmp_path / "notes.txt").write_text("not a runbook")
        (tmp_path / "good.md").write_text(GOOD)
        (tmp_path / "no-triage.md").write_text(GOOD.replace("## Triage", "## Steps"))
        (tmp_path / "bad-title.md").write_text(GOOD.replace("Checkout errors", "[1, 2]", 1))
        with pytest.raises(ConfigError) as caught:
            load_runbooks(tmp_path)
        assert [(Path(p.path).name, p.line) for p in caught.value.problems] == [
            ("bad-title.md", 2),
            ("no-triage.md", 1),
        ]
        assert caught.value.problems[0].path == display_path(tmp_path / "bad-title.md")

    def test_missing_directory_is_a_config_error(self, tmp_path: Path) -> None:
        """A runbook directory that does not exist is reported, not silently empty."""
        with pytest.raises(ConfigError, match="no such directory of runbooks"):
            load_runbooks(tmp_path / "absent")


class TestRunbookBlocks:
    def test_blocks_carry_header_triage_and_context(self) -> None:
        """The header is the title; the triage shows an emoji per kind; context names the file."""
        blocks = validated(runbook_blocks(runbook()))
        assert blocks[0] == {
            "type": "header",
            "text": {"type": "plain_text", "text": "Checkout errors"},
        }
        texts = "\n".join(mrkdwn_texts(blocks))
        assert ":rewind: *If* errors rose after a deploy → *Roll back:*" in texts
        assert "↳ :rotating_light: *If* the rollback fails" in texts
        assert "`runbooks/good.md`" in texts
        assert "*Verify*" in texts
        assert "Triage\n" not in texts

    def test_mentions_in_runbook_text_are_escaped(self) -> None:
        """`<!channel>` in the title, a symptom or the body never reaches mrkdwn unescaped."""
        evil = runbook(
            title="Oops <!channel>",
            triage=(Branch("<!here> sees 5xx", ActionKind.ESCALATE, "ping <@U123>"),),
            body="## Notes\nTell <!everyone> & <https://evil|x>",
        )
        blocks = validated(runbook_blocks(evil))
        for text in [*mrkdwn_texts(blocks), runbook_text(evil)]:
            assert "<!" not in text
            assert "<@U123>" not in text
            assert "<https://evil" not in text
        assert blocks[0]["text"]["type"] == "plain_text"  # never parsed for mentions
        assert "Oops &lt;!channel&gt;" in runbook_text(evil)
        assert "&amp; &lt;https://evil|x&gt;" in json.dumps(blocks)

    def test_very_long_runbook_stays_within_slack_limits(self) -> None:
        """Hundreds of long branches and a huge body still give ≤ 50 blocks of ≤ 3000 chars."""
        branch = Branch("x" * 4000, ActionKind.INVESTIGATE, "word " * 900)
        huge = runbook(
            title="T" * 400,
            triage=(branch,) * 200,
            body="\n\n".join(f"## Part {i}\n" + "lorem ipsum " * 300 for i in range(100)),
        )
        blocks = validated(runbook_blocks(huge))
        assert len(blocks) == 50
        assert len(blocks[0]["text"]["text"]) <= 150
        assert all(len(t) <= 3000 for t in mrkdwn_texts(blocks))
        assert "more blocks not shown" in blocks[-1]["elements"][0]["text"]
        assert len(runbook_text(huge)) <= 3000

    def test_body_markdown_becomes_mrkdwn(self) -> None:
        """Headings turn bold, `**strong**` single-starred, bullets dotted, links Slack-style."""
        book = runbook(body="# Title\n## Who\n- **DB** on-call: [wiki](https://wiki.example/db)")
        texts = mrkdwn_texts(runbook_blocks(book, body=True))
        assert "*Who*\n• *DB* on-call: <https://wiki.example/db|wiki>" in texts
        assert not any("Title" in t for t in texts)
        assert not any("Who" in t for t in mrkdwn_texts(runbook_blocks(book, body=False)))
