"""Slack: the signing secret, the bot token (the pager every page goes out by) and its scopes."""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from bot.cli.doctor.checkup import Checkup, Line, fail, ok, warn

WHERE_THE_BOT_KEY_IS = "set SLACK_BOT_TOKEN to OAuth & Permissions → Bot User OAuth Token (xoxb-…)"


def check_signing_secret(c: Checkup) -> Iterator[Line]:
    if c.settings.slack_signing_secret:
        yield ok("signing secret", "SLACK_SIGNING_SECRET is set")
    else:
        yield fail(
            "signing secret",
            "SLACK_SIGNING_SECRET is not set: tocsin web refuses to start",
            "copy Basic Information → App Credentials → Signing Secret into SLACK_SIGNING_SECRET",
        )


def check_slack_token(c: Checkup) -> Iterator[Line]:
    """The token accepted by auth.test at SLACK_API_URL (Slack's own validation endpoint)."""
    auth = c.auth
    if auth is None:
        yield fail("slack token", "SLACK_BOT_TOKEN is not set", WHERE_THE_BOT_KEY_IS)
    elif auth.error is not None:
        yield fail("slack token", f"auth.test refused: {auth.error}", WHERE_THE_BOT_KEY_IS)
    else:
        yield ok("slack token", f"valid: bot {auth.body.get('user')} in {auth.body.get('team')}")


def check_scopes(c: Checkup) -> Iterator[Line]:
    auth = c.auth
    if auth is None or auth.error is not None:
        return  # the token line says why
    granted = auth.headers.get("x-oauth-scopes")
    if isinstance(granted, list):
        granted = ",".join(granted)
    yield scopes_line(c, granted)


def scopes_line(c: Checkup, granted: str | None) -> Line:
    manifest = c.manifest
    if not manifest.is_file():
        return warn("scopes", f"{manifest} not found: scopes not compared", "pass --manifest")
    wanted = set(yaml.safe_load(manifest.read_text())["oauth_config"]["scopes"]["bot"])
    if granted is None:
        return warn("scopes", "Slack did not say which scopes the token has (X-OAuth-Scopes)")
    missing = sorted(wanted - {s.strip() for s in granted.split(",")})
    if not missing:
        return ok("scopes", f"every scope of {manifest.name} is granted")
    return fail(
        "scopes",
        f"not granted: {', '.join(missing)}",
        f"add them under OAuth & Permissions (or update the app from {manifest.name}) and "
        "reinstall the app to the workspace",
    )
