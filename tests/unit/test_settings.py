"""Settings from the environment: the bounds on what Redis keeps, and their bad values."""

from __future__ import annotations

import pytest

from bot.config.settings import Settings, SettingsError


class TestBounds:
    def test_defaults_bound_writes_and_retention(self) -> None:
        """30 writes a minute per person and incident, 20 at once, 30 days of retention."""
        settings = Settings.from_env({})
        assert (settings.writes_per_minute, settings.writes_burst) == (30.0, 20)
        assert settings.retention_s == 30 * 86400

    def test_fractions_of_a_day_are_accepted(self) -> None:
        """A retention may be shorter than a day (tests and demos use seconds)."""
        assert Settings.from_env({"TOCSIN_RETENTION_DAYS": "0.5"}).retention_s == 43200

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            (
                "TOCSIN_RETENTION_DAYS",
                "soon",
                "TOCSIN_RETENTION_DAYS='soon' is not a number of days",
            ),
            ("TOCSIN_RETENTION_DAYS", "0", "TOCSIN_RETENTION_DAYS='0' must be greater than zero"),
            ("TOCSIN_WRITES_PER_MINUTE", "many", "is not a number of writes"),
            ("TOCSIN_WRITES_BURST", "-3", "TOCSIN_WRITES_BURST='-3' must be greater than zero"),
        ],
    )
    def test_bad_values_name_the_variable(self, name: str, value: str, message: str) -> None:
        """A value Tocsin cannot use is refused with the variable, the value and what is wanted."""
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({name: value})


class TestSentinels:
    def test_sentinels_and_master_are_read(self) -> None:
        """REDIS_SENTINELS is a list of host:port; the master defaults to `mymaster`; secrets
        stay out of the repr."""
        settings = Settings.from_env(
            {"REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380", "REDIS_PASSWORD": "hunter2"}
        )
        assert settings.redis_sentinels == (("10.0.0.1", 26379), ("sentinel-b", 26380))
        assert settings.redis_sentinel_master == "mymaster"
        assert settings.redis_configured
        assert not settings.redis_tls
        assert "hunter2" not in repr(settings)

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("REDIS_SENTINELS", "10.0.0.1", "REDIS_SENTINELS: '10.0.0.1' is not host:port"),
            ("REDIS_SENTINELS", "a:1,b:x", "REDIS_SENTINELS: 'b:x' is not host:port"),
            ("TOCSIN_REDIS_WAIT_MS", "0", "TOCSIN_REDIS_WAIT_MS='0' must be greater than zero"),
            ("TOCSIN_REDIS_WAIT_REPLICAS", "one", "'one' is not a whole number"),
        ],
    )
    def test_bad_values_name_the_entry(self, name: str, value: str, message: str) -> None:
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({name: value})
