"""`/incident milestone <ack|mitigated|resolved> <YYYY-MM-DD HH:MM[Z]>` parses, or explains."""

from __future__ import annotations

import pytest

from bot.slack.commands import Milestone, UsageError, needs_incident, parse


class TestMilestoneCommand:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("milestone ack 2026-03-09 23:58", Milestone("ack", "2026-03-09 23:58")),
            ("milestone Mitigated 2026-03-10T00:07Z", Milestone("mitigated", "2026-03-10T00:07Z")),
            ("milestone resolve  2026-03-10   1:02", Milestone("resolved", "2026-03-10 1:02")),
            ("milestone contained 2026-03-10 00:07z", Milestone("mitigated", "2026-03-10 00:07z")),
        ],
    )
    def test_parses_milestone_and_time_as_typed(self, text: str, expected: Milestone) -> None:
        """Synonyms select the canonical milestone; the time keeps its shape, spaces squeezed."""
        assert parse(text) == expected

    def test_works_only_in_an_incident_channel(self) -> None:
        """A correction belongs to one incident."""
        assert needs_incident("milestone")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("milestone", "Which milestone?"),
            ("milestone ackd 2026-03-09 10:00", "is not a milestone"),
            ("milestone ack", "not nothing"),
            ("milestone ack yesterday", "`yesterday`"),
            ("milestone ack 2026-02-30 10:00", "not a real date"),
        ],
    )
    def test_bad_input_names_what_is_wrong_with_usage(self, text: str, message: str) -> None:
        """Each mistake is explained and the usage line is attached."""
        with pytest.raises(UsageError) as caught:
            parse(text)
        assert message in caught.value.message + " " + (caught.value.suggestion or "")
        assert "/incident milestone" in caught.value.usage

    def test_typo_suggests_the_milestone(self) -> None:
        """`mitigatd` is near `mitigated`."""
        with pytest.raises(UsageError) as caught:
            parse("milestone mitigatd 2026-03-09 10:00")
        assert "Did you mean `mitigated`?" in (caught.value.suggestion or "")
