"""Incident channel names."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.naming import channel_name

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


class TestChannelName:
    def test_name_carries_date_number_and_slug(self) -> None:
        """The id and a slug of the title make the name."""
        assert (
            channel_name("20261127-3", "Checkout 500s — EU!") == "inc-20261127-3-checkout-500s-eu"
        )

    def test_taken_names_get_a_numbered_suffix(self) -> None:
        """A retry after name_taken appends -2, -3, ..."""
        assert channel_name("20261127-3", "db", attempt=1) == "inc-20261127-3-db-2"

    def test_title_of_only_symbols_leaves_the_id(self) -> None:
        """A title with nothing usable gives just the id part."""
        assert channel_name("20261127-3", "<!channel> ☃") == "inc-20261127-3-channel"
        assert channel_name("20261127-3", "☃☃") == "inc-20261127-3"

    def test_a_private_incident_name_carries_no_slug(self) -> None:
        """A private incident's channel is `inc-<id>-private`, whatever its title."""
        assert (
            channel_name("20261127-3", "Initech acquisition leak", private=True)
            == "inc-20261127-3-private"
        )
        assert (
            channel_name("20261127-3", "x", attempt=2, private=True) == "inc-20261127-3-private-3"
        )


@given(title=st.text(max_size=300), attempt=st.integers(0, 50), private=st.booleans())
def test_any_title_gives_a_valid_slack_name(title: str, attempt: int, private: bool) -> None:
    """Whatever the title, the name obeys Slack's characters and length."""
    assert VALID.match(channel_name("20261127-12345", title, attempt, private=private))
