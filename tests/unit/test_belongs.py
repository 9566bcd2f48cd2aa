"""Modal metadata sealed to its incident, modal and person: a changed or borrowed one does
not open."""

from __future__ import annotations

import pytest

from bot.config.settings import Settings, SettingsError
from bot.slack.belongs import Seal


class TestSeal:
    def test_metadata_opens_only_for_its_modal_person_and_incident(self) -> None:
        """The sealed id opens for the modal and person it was made for, nothing else."""
        seal = Seal("signing-secret")
        sealed = seal.seal("status_update", "20260301-1", "U0FRANK01")
        assert seal.open("status_update", sealed, "U0FRANK01") == "20260301-1"
        assert seal.open("resolve_incident", sealed, "U0FRANK01") is None
        assert seal.open("status_update", sealed, "U0ALICE01") is None
        forged = sealed.replace("20260301-1", "20260301-2")
        assert seal.open("status_update", forged, "U0FRANK01") is None
        assert Seal("other-secret").open("status_update", sealed, "U0FRANK01") is None

    @pytest.mark.parametrize("metadata", ["", "20260301-1", ":", "20260301-1:é", "x" * 4000])
    def test_bare_or_garbage_metadata_does_not_open(self, metadata: str) -> None:
        """A bare incident id (the old form), an empty or a non-ASCII MAC opens nothing."""
        assert Seal("signing-secret").open("status_update", metadata, "U0FRANK01") is None

    def test_the_key_comes_from_the_signing_secret_or_the_app_token(self) -> None:
        """Socket Mode has no signing secret: the app-level token keys the seal; neither is an
        error naming both variables."""
        by_token = Seal.from_settings(Settings(slack_app_token="xapp-1"))
        assert by_token.open("k", Seal("xapp-1").seal("k", "i-1", "U1"), "U1") == "i-1"
        with pytest.raises(SettingsError, match=r"SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN"):
            Seal.from_settings(Settings())
