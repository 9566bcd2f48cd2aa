"""The "do this once" markers on a real Redis: who takes a marker, what it says while the
work runs and after, how long it lasts, and that a failed attempt leaves it free."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from bot.state.markers import Markers

pytestmark = pytest.mark.integration


@pytest.fixture
def markers(r: redis.Redis) -> Markers:
    return Markers(r)


def once(markers: Markers, key: str, act: Callable[[], object]) -> bool:
    return markers.once(key, act, hold_s=30, keep_s=60, holding="h", done="d")


class TestFirst:
    def test_one_caller_takes_a_marker_until_it_expires(
        self, markers: Markers, r: redis.Redis
    ) -> None:
        """The first caller gets True and sets the value for ttl_s; the next gets False and changes nothing."""
        assert markers.first("m:a", 60, "posting") is True
        assert markers.first("m:a", 600, "other") is False
        assert r.get("m:a") == "posting"
        assert 59 <= r.ttl("m:a") <= 60
        assert markers.first("m:b", 30) is True
        assert r.get("m:b") == "1"  # the default value
        r.delete("m:a")  # expired: free again
        assert markers.first("m:a", 60) is True


class TestOnce:
    def test_holding_while_it_runs_then_done_for_keep_s(
        self, markers: Markers, r: redis.Redis
    ) -> None:
        """While `act` runs the marker says `holding` for hold_s; afterwards `done` for keep_s; True."""
        seen: list[tuple[object, int]] = []

        def act() -> None:
            seen.append((r.get("m:once"), r.ttl("m:once")))

        assert markers.once("m:once", act, hold_s=30, keep_s=3600, holding="h", done="d")
        ((value, ttl),) = seen
        assert value == "h"
        assert 29 <= ttl <= 30
        assert r.get("m:once") == "d"
        assert 3599 <= r.ttl("m:once") <= 3600

    def test_done_or_being_done_is_not_done_again(self, markers: Markers) -> None:
        """A second call, after or during the first, does not run `act` and says False."""
        runs: list[str] = []
        assert once(markers, "m:twice", lambda: runs.append("first"))
        assert not once(markers, "m:twice", lambda: runs.append("second"))
        inner: list[bool] = []
        once(
            markers,
            "m:nested",
            lambda: inner.append(once(markers, "m:nested", lambda: runs.append("x"))),
        )
        assert runs == ["first"]
        assert inner == [False]

    def test_a_failed_attempt_frees_the_marker_and_the_error_goes_on(
        self, markers: Markers, r: redis.Redis
    ) -> None:
        """`act` raising: the marker is removed and the error re-raised, so a retry does it."""

        def fail() -> None:
            raise RuntimeError("slack down")

        with pytest.raises(RuntimeError, match="slack down"):
            once(markers, "m:retry", fail)
        assert r.exists("m:retry") == 0
        runs: list[int] = []
        assert once(markers, "m:retry", lambda: runs.append(1))
        assert runs == [1]


class TestValues:
    def test_put_get_and_forget(self, markers: Markers, r: redis.Redis) -> None:
        """A value kept for ttl_s, or for good without one; read back as str; forgotten."""
        markers.put("m:topic", "Checkout down", 120)
        assert markers.get("m:topic") == "Checkout down"
        assert 119 <= r.ttl("m:topic") <= 120
        markers.put("m:ts", 1795810785.5)
        assert markers.get("m:ts") == "1795810785.5"
        assert r.ttl("m:ts") == -1  # no expiry
        markers.forget("m:topic")
        assert markers.get("m:topic") is None
        assert markers.get("m:never") is None
