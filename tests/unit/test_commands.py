"""The `/incident` parser: text to typed commands, or a UsageError a person can act on."""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.slack.commands import (
    COMMANDS,
    Ack,
    AddAction,
    AssignRole,
    ChangeSeverity,
    Command,
    Declare,
    Drill,
    Escalate,
    Handoff,
    Help,
    ListIncidents,
    Mention,
    Milestone,
    Mitigate,
    Note,
    OnCall,
    OpenDeclareModal,
    Page,
    Reopen,
    Resolve,
    Runbook,
    Spec,
    Stats,
    Status,
    Timeline,
    Update,
    UsageError,
    help_text,
    needs_incident,
    parse,
)
from bot.slack.commands.table import _word_index

ALICE = Mention("user", "U0ALICE01", "alice")
ENG = Mention("usergroup", "S0ENGMGRS", "eng-managers")
COMMAND_TYPES = get_args(Command)


def usage_error(text: str, **kwargs: tuple[str, ...]) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse(text, **kwargs)
    return caught.value


HAPPY: list[tuple[str, Command]] = [
    ("", OpenDeclareModal()),
    ("declare", Declare(None, None)),
    ("declare sev2", Declare("sev2", None)),
    ("declare sev1 Checkout errors", Declare("sev1", "Checkout errors")),
    ("declare Checkout errors", Declare(None, "Checkout errors")),
    ("drill", Drill(None, None, None)),
    ("drill checkout SEV-2 db-failover", Drill("checkout", "sev2", "db-failover")),
    ("drill sev1", Drill(None, "sev1", None)),
    ("drill checkout", Drill("checkout", None, None)),
    ("drill checkout db-failover", Drill("checkout", None, "db-failover")),
    ("list", ListIncidents()),
    ("oncall", OnCall(None)),
    ("oncall payments api", OnCall("payments api")),
    ("stats", Stats(30, None)),
    ("stats 90d payments", Stats(90, "payments")),
    ("help", Help(None)),
    ("help page", Help("page")),
    ("ack", Ack()),
    ("escalate", Escalate("")),
    ("escalate nobody answers", Escalate("nobody answers")),
    ("update", Update(None)),
    ("update Rolled back v2.3", Update("Rolled back v2.3")),
    ("sev sev1 checkout down everywhere", ChangeSeverity("sev1", "checkout down everywhere")),
    ("sev sev3", ChangeSeverity("sev3", "")),
    ("role comms <@U0ALICE01|alice>", AssignRole("comms", ALICE)),
    ("handoff <@U0ALICE01|alice>", Handoff(ALICE)),
    ("page <!subteam^S0ENGMGRS|@eng-managers>", Page((ENG,), "")),
    (
        "page <@U0ALICE01|alice> <!subteam^S0ENGMGRS> DB down",
        Page((ALICE, Mention("usergroup", "S0ENGMGRS", None)), "DB down"),
    ),
    ("note Restarted the primary", Note("Restarted the primary")),
    ("mitigate", Mitigate()),
    ("resolve", Resolve("")),
    ("resolve Bad deploy rolled back", Resolve("Bad deploy rolled back")),
    ("reopen", Reopen()),
    ("status", Status()),
    ("timeline", Timeline()),
    ("runbook", Runbook()),
    ("action Add a canary", AddAction("Add a canary", None, None)),
    (
        "action Add a canary <@U0ALICE01|alice> due 2025-03-31",
        AddAction("Add a canary", ALICE, date(2025, 3, 31)),
    ),
    ("milestone ack 2026-03-29 01:55Z", Milestone("ack", "2026-03-29 01:55Z")),
]


class TestHappyPaths:
    @pytest.mark.parametrize(("text", "expected"), HAPPY, ids=[t or "<empty>" for t, _ in HAPPY])
    def test_parses_to_the_typed_command(self, text: str, expected: Command) -> None:
        """Each subcommand's well-formed text parses to its frozen command value."""
        assert parse(text) == expected

    def test_every_subcommand_has_a_happy_path_here(self) -> None:
        """The examples above cover every row of COMMANDS, so a new row needs a test."""
        assert {type(expected).subcommand for _, expected in HAPPY} == set(COMMANDS)

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("drill checkout sev9", "`sev9` is not a severity level."),
            ("drill a b sev2", "at most a policy, a severity and a scenario"),
            ("drill a b c d", "at most a policy, a severity and a scenario"),
        ],
    )
    def test_a_bad_drill_is_explained(self, text: str, says: str) -> None:
        """A level that does not exist, or more words than the grammar has places for."""
        with pytest.raises(UsageError) as raised:
            parse(text)
        assert says in raised.value.message
        assert "/incident drill [policy] [severity] [scenario]" in raised.value.usage

    def test_subcommand_is_case_insensitive_but_arguments_keep_their_case(self) -> None:
        """`DECLARE SEV-2` selects declare and sev2 while the title keeps its capitals."""
        assert parse("  DECLARE SEV-2 Checkout EU  ") == Declare("sev2", "Checkout EU")

    @pytest.mark.parametrize(
        ("alias", "expected"),
        [
            ("acknowledge", Ack()),
            ("Severity sev2", ChangeSeverity("sev2", "")),
            ("resolved", Resolve("")),
            ("mitigated", Mitigate()),
            ("on-call", OnCall(None)),
        ],
    )
    def test_aliases_select_their_subcommand(self, alias: str, expected: Command) -> None:
        """Each alias in the table parses exactly like the subcommand it stands for."""
        assert parse(alias) == expected

    def test_free_text_is_kept_as_typed(self) -> None:
        """Inner spacing, mrkdwn and escapes survive; only surrounding whitespace goes."""
        typed = "Rolled  back\tv2 <!channel> *bold* `code` &amp; é"
        assert parse(f"note \n {typed} \n") == Note(typed)

    def test_commands_are_frozen(self) -> None:
        """Parsed commands cannot be changed after the fact."""
        command = parse("note hi")
        with pytest.raises(AttributeError):
            command.text = "changed"  # type: ignore[misc, union-attr]


class TestAliasTable:
    def test_every_alias_selects_one_subcommand(self) -> None:
        """No alias is also a subcommand name or another subcommand's alias."""
        spoken = [w for spec in COMMANDS.values() for w in (spec.name, *spec.aliases)]
        assert len(spoken) == len(set(spoken))

    def test_a_clashing_alias_is_refused(self) -> None:
        """Building the word index from specs where one word means two things fails loudly."""
        specs = [
            Spec("ack", ("/incident ack",), "a", in_incident=True),
            Spec(
                "acknowledge", ("/incident acknowledge",), "b", in_incident=True, aliases=("ack",)
            ),
        ]
        with pytest.raises(ValueError, match="'ack'"):
            _word_index(specs)


class TestSeverity:
    @pytest.mark.parametrize("typed", ["sev2", "SEV2", "Sev2", "sev-2", "SEV-2", "sev_2"])
    def test_spellings_normalise_to_the_configured_name(self, typed: str) -> None:
        """Case and a separator between `sev` and the number do not matter."""
        assert parse(f"sev {typed}") == ChangeSeverity("sev2", "")

    def test_configured_names_are_returned_as_configured(self) -> None:
        """With levels named `SEV1`/`SEV2`, `sev-2` comes back as `SEV2`."""
        assert parse("declare sev-2 x", severities=("SEV1", "SEV2")) == Declare("SEV2", "x")

    def test_custom_level_names_are_recognised(self) -> None:
        """Any configured name is a level, matched case-insensitively."""
        levels = ("critical", "major", "minor")
        assert parse("sev MAJOR", severities=levels) == ChangeSeverity("major", "")

    def test_declare_title_that_looks_like_no_level_stays_a_title(self) -> None:
        """`S3` is not a level, so a title about S3 keeps its first word."""
        assert parse("declare S3 bucket 503s") == Declare(None, "S3 bucket 503s")

    def test_declare_with_an_unconfigured_sev_level_is_an_error(self) -> None:
        """`declare sev9 x` is refused and the valid levels are named, not taken as a title."""
        error = usage_error("declare sev9 disk full")
        assert "sev9" in error.message
        assert error.suggestion is not None
        assert all(level in error.suggestion for level in ("sev1", "sev2", "sev3"))

    def test_sev_alone_names_the_valid_levels(self) -> None:
        """`/incident sev` says a level is needed and lists every configured level."""
        error = usage_error("sev")
        assert error.usage == "/incident sev <level> [reason]"
        assert error.suggestion == "Levels: `sev1`, `sev2`, `sev3`."

    def test_misspelled_level_gets_the_nearest_one(self) -> None:
        """A near miss names the closest level first, then all of them."""
        error = usage_error("sev svee2 worse")
        assert error.suggestion is not None
        assert error.suggestion.startswith("Did you mean `sev2`?")

    def test_no_configured_levels_is_said_plainly(self) -> None:
        """With no levels configured, `sev` explains that rather than listing nothing."""
        error = usage_error("sev sev1", severities=())
        assert error.suggestion == "No severity levels are configured."


class TestMentions:
    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("<@U0ALICE01|alice>", ALICE),
            ("<@U0ALICE01>", Mention("user", "U0ALICE01", None)),
            ("<@W0ALICE01|alice>", Mention("user", "W0ALICE01", "alice")),
            ("@alice", Mention("user", None, "alice")),
            ("U0ALICE01", Mention("user", "U0ALICE01", None)),
            ("<!subteam^S0ENGMGRS|@eng-managers>", ENG),
            ("<!subteam^S0ENGMGRS>", Mention("usergroup", "S0ENGMGRS", None)),
        ],
    )
    def test_every_mention_form_is_read(self, typed: str, expected: Mention) -> None:
        """Escaped users and groups, typed handles and bare user ids all become mentions."""
        assert parse(f"page {typed}") == Page((expected,), "")

    def test_targets_end_at_the_first_word_that_is_no_mention(self) -> None:
        """Mentions after the message starts belong to the message."""
        assert parse("page @bob, @carol please ask @dave") == Page(
            (Mention("user", None, "bob"), Mention("user", None, "carol")), "please ask @dave"
        )

    def test_an_upper_case_word_is_not_a_bare_id(self) -> None:
        """`WEBSITE` has no digit, so it starts the message instead of naming a user."""
        assert parse("page @bob WEBSITE DOWN") == Page(
            (Mention("user", None, "bob"),), "WEBSITE DOWN"
        )

    def test_repeated_targets_are_paged_once(self) -> None:
        """The same id or handle twice gives one target, in first-seen order."""
        page = parse("page <@U0ALICE01|alice> @Bob <@U0ALICE01> @bob now")
        assert page == Page((ALICE, Mention("user", None, "Bob")), "now")

    @pytest.mark.parametrize(
        "target",
        [
            "<!channel>",
            "<!here>",
            "<!everyone>",
            "<!here|here>",
            "@channel",
            "@HERE",
            "<#C0GENERAL|general>",
        ],
    )
    def test_broadcasts_and_channels_are_never_page_targets(self, target: str) -> None:
        """`@channel`, `@here`, `@everyone` and channels are refused, first or later in the list."""
        for text in (f"page {target} db down", f"page @bob {target} db down"):
            error = usage_error(text)
            assert error.usage.startswith("/incident page")
            assert "mention people or user groups" in error.message

    def test_page_needs_a_mention(self) -> None:
        """`page` without a mention is refused; a plain name gets an @ suggested."""
        error = usage_error("page bob the db is down")
        assert "at least one" in error.message
        assert error.suggestion == "Did you mean `/incident page @bob`?"
        assert usage_error("page").suggestion is None


class TestRolesAndHandoff:
    def test_ic_is_the_commander(self) -> None:
        """`ic` is accepted as the commander role, in any case."""
        assert parse("role IC @alice") == AssignRole("commander", Mention("user", None, "alice"))

    def test_unknown_role_names_the_valid_roles(self) -> None:
        """`role boss @x` says boss is no role and lists commander, comms and scribe."""
        error = usage_error("role boss @x")
        assert "`boss`" in error.message
        assert error.suggestion == "Roles: `commander`, `comms`, `scribe`."

    def test_misspelled_role_gets_the_nearest_one(self) -> None:
        """`comander` suggests `commander`."""
        suggestion = usage_error("role comander @x").suggestion
        assert suggestion is not None
        assert suggestion.startswith("Did you mean `commander`?")

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("role", "Which role"),
            ("role scribe", "Who?"),
            ("role scribe alice", "start the person's name with @"),
            ("role scribe <!subteam^S0ENGMGRS>", "user group"),
            ("role scribe @alice @bob", "Only one person"),
            ("handoff", "Who?"),
            ("handoff <!here>", "whole channel"),
            ("handoff @alice going off shift", "Only one person"),
        ],
    )
    def test_role_and_handoff_need_exactly_one_person(self, text: str, fragment: str) -> None:
        """A missing, non-mention, group, broadcast or extra target is refused with a reason."""
        assert fragment in usage_error(text).message


class TestArguments:
    @pytest.mark.parametrize(
        "name", ["list", "ack", "mitigate", "reopen", "status", "timeline", "runbook"]
    )
    def test_commands_without_arguments_refuse_extra_text(self, name: str) -> None:
        """Trailing words are refused rather than silently dropped, with that command's usage."""
        error = usage_error(f"{name} on it")
        assert "`on it`" in error.message
        assert error.usage == f"/incident {name}"

    def test_note_needs_text(self) -> None:
        """`note` alone is refused."""
        assert usage_error("note   ").usage == "/incident note <text>"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "action Fix  alerts due 2025-01-02 @bob",
                AddAction("Fix  alerts", Mention("user", None, "bob"), date(2025, 1, 2)),
            ),
            ("action Fix alerts @bob", AddAction("Fix alerts", Mention("user", None, "bob"), None)),
            ("action Fix alerts DUE 2025-01-02", AddAction("Fix alerts", None, date(2025, 1, 2))),
            ("action Pay what is due soon", AddAction("Pay what is due soon", None, None)),
            (
                "action Ask @bob to page @carol",
                AddAction("Ask @bob to page", Mention("user", None, "carol"), None),
            ),
        ],
    )
    def test_action_reads_owner_and_due_from_the_end(self, text: str, expected: AddAction) -> None:
        """Owner and due date come off the end in either order; the text is what remains."""
        assert parse(text) == expected

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("action Fix due 2025-02-30", "not a real date"),
            ("action Fix due 2025-2-3", "YYYY-MM-DD"),
            ("action Fix due 5pm", "YYYY-MM-DD"),
            ("action @bob due 2025-01-02", "What is the action"),
            ("action", "What is the action"),
        ],
    )
    def test_action_refuses_bad_dates_and_missing_text(self, text: str, fragment: str) -> None:
        """A due date must be a real ISO date and the action needs words."""
        assert fragment in usage_error(text).message

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("stats 7D", Stats(7, None)), ("stats payments 90d", Stats(90, "payments"))],
    )
    def test_stats_window_and_service_in_either_order(self, text: str, expected: Stats) -> None:
        """The window is any `Nd` up to a year, in any case, before or after the service."""
        assert parse(text) == expected

    @pytest.mark.parametrize(
        "text", ["stats 0d", "stats 366d", "stats 30d 90d", "stats a b", "stats a b c"]
    )
    def test_stats_refuses_bad_windows_and_extra_words(self, text: str) -> None:
        """Out-of-range or repeated windows and more than one service are refused."""
        assert usage_error(text).usage == "/incident stats [30d|90d] [service]"

    def test_help_topic_is_the_canonical_name(self) -> None:
        """`help acknowledge` asks for help on ack."""
        assert parse("help ACKNOWLEDGE") == Help("ack")

    def test_help_on_an_unknown_topic_suggests_one(self) -> None:
        """`help akc` suggests ack, with help's own usage."""
        error = usage_error("help akc")
        assert error.suggestion == "Did you mean `/incident ack`?"
        assert error.usage == "/incident help [subcommand]"


class TestUnknownSubcommand:
    @pytest.mark.parametrize(
        ("typed", "meant"),
        [
            ("akc", "ack"),
            ("delcare sev1 x", "declare"),
            ("stauts", "status"),
            ("acknowlege", "ack"),
            ("Resolv", "resolve"),
        ],
    )
    def test_typos_suggest_the_closest_subcommand(self, typed: str, meant: str) -> None:
        """A misspelled subcommand or alias suggests the canonical subcommand it is nearest to."""
        assert usage_error(typed).suggestion == f"Did you mean `/incident {meant}`?"

    def test_a_bare_title_is_pointed_at_declare(self) -> None:
        """Text that is no subcommand and resembles none points at `declare`."""
        error = usage_error("Checkout is down")
        assert "`Checkout` is not an /incident subcommand" in error.message
        assert error.suggestion is not None
        assert "/incident declare" in error.suggestion

    def test_the_usage_lists_every_subcommand(self) -> None:
        """The usage of an unknown subcommand names every valid one."""
        usage = usage_error("xyzzy").usage
        assert all(name in usage for name in COMMANDS)

    def test_long_words_are_shortened_in_the_message(self) -> None:
        """A huge unknown word is echoed in short, keeping the message readable."""
        error = usage_error("x" * 100_000)
        assert len(error.message) < 200


class TestHelpText:
    def test_lists_every_subcommand_under_where_it_works(self) -> None:
        """Each subcommand's usage appears once, under "Anywhere" or "In an incident channel"."""
        text = help_text()
        anywhere, incident = text.split("*In an incident channel*")
        assert anywhere.startswith("*Anywhere*")
        for spec in COMMANDS.values():
            line = f"`{spec.usage[0]}` — {spec.summary}"
            assert line in (incident if spec.in_incident else anywhere)
            assert text.count(line) == 1

    def test_topic_help_shows_usage_levels_and_aliases(self) -> None:
        """Help on `severity` shows sev's usage, the configured levels and its alias."""
        text = help_text("severity", severities=("p1", "p2"))
        assert text.startswith("`/incident sev <level> [reason]`")
        assert "`p1`, `p2`" in text
        assert "`severity`" in text
        assert "incident channel only" in text

    def test_unknown_topic_is_a_usage_error(self) -> None:
        """Help on a word that is no subcommand raises the same error as parsing it."""
        with pytest.raises(UsageError):
            help_text("akc")


class TestNeedsIncident:
    @pytest.mark.parametrize(("text", "expected"), HAPPY, ids=[t or "<empty>" for t, _ in HAPPY])
    def test_follows_the_table(self, text: str, expected: Command) -> None:
        """A parsed command needs an incident channel exactly when its row says so."""
        assert needs_incident(parse(text)) is COMMANDS[expected.subcommand].in_incident

    def test_names_and_aliases_are_accepted(self) -> None:
        """`ack`/`acknowledge` need an incident channel; `declare`/`stats` do not."""
        assert needs_incident("acknowledge")
        assert needs_incident("ack")
        assert not needs_incident("declare")
        assert not needs_incident(OpenDeclareModal())
        assert not needs_incident("stats")


WORDS = [
    *COMMANDS,
    *(a for spec in COMMANDS.values() for a in spec.aliases),
    "sev1",
    "SEV-2",
    "sev9",
    "commander",
    "ic",
    "boss",
    "due",
    "2025-02-30",
    "2025-01-02",
    "5pm",
    "30d",
    "999d",
    "<@U0ALICE01|alice>",
    "<@U0ALICE01>",
    "<!subteam^S0ENGMGRS|@eng>",
    "@bob",
    "U0ALICE01",
    "<!channel>",
    "<!here|here>",
    "<#C1|x>",
    "<",
    ">",
    "<@",
    "<!subteam^",
    "|",
]


@st.composite
def commandish(draw: st.DrawFn) -> str:
    """Text built from the grammar's own words, odd separators and arbitrary unicode."""
    parts = draw(st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=8))
    seps = draw(
        st.lists(
            st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\x00", ""]),
            min_size=len(parts),
            max_size=len(parts),
        )
    )
    return "".join(s + p for s, p in zip(seps, parts, strict=True))


class TestProperties:
    @given(st.one_of(st.text(), commandish()))
    def test_any_text_parses_or_raises_a_usage_error(self, text: str) -> None:
        """For any text, parse returns a command or a UsageError with readable message and usage."""
        error: UsageError | None = None
        try:
            command = parse(text)
        except UsageError as caught:
            error = caught
        if error is None:
            assert isinstance(command, COMMAND_TYPES)
            return
        for field in (error.message, error.usage):
            assert field.strip()
            assert "Traceback" not in field
        assert error.suggestion is None or error.suggestion.strip()

    @given(st.text(min_size=1, max_size=150))
    def test_declare_title_round_trips(self, raw: str) -> None:
        """A title within the cap survives `declare [level]` exactly, minus its surrounding whitespace."""
        title = raw.strip()
        assume(title)
        assert parse(f"declare sev2 {raw}") == Declare("sev2", title)
        assume(not title.lower().startswith("s"))
        assert parse(f"Declare {raw}") == Declare(None, title)

    @given(st.text(min_size=151, max_size=400).filter(lambda t: len(t.strip()) > 150))
    def test_declare_title_over_the_cap_is_refused_with_its_size(self, raw: str) -> None:
        """A title over 150 characters is a usage error naming the cap and the title's length."""
        with pytest.raises(
            UsageError, match=f"at most 150 characters; this one has {len(raw.strip()):,}"
        ):
            parse(f"declare sev2 {raw}")
