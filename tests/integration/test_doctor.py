"""`tocsin doctor` against the real Slack emulator and real Valkey servers, through the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import clock
from bot.sandbox.emulator import Emulator
from bot.state.alerts import AlertStore
from bot.state.server import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "slack-app-manifest.yaml"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    running = Emulator().start()
    running.api.scopes = tuple(
        yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"]
    )
    yield running
    running.stop()


def doctor(env: dict[str, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor", "--json", "--manifest", str(MANIFEST)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = json.loads(done.stdout)
    assert answer["ok"] is (done.returncode == 0)
    return done.returncode, {line["name"]: line for line in answer["checks"]}


def base_env(redis_url: str, emulator: Emulator, config_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        SLACK_API_URL=emulator.url,
        SLACK_BOT_TOKEN=emulator.bot_token,
        SLACK_SIGNING_SECRET="doctor-secret",
        TOCSIN_CONFIG_DIR=str(config_dir),
    )
    return env


def test_a_sound_installation_passes(redis_url: str, emulator: Emulator, config_dir: Path) -> None:
    """Token valid, every manifest scope granted, AOF and noeviction on: exit 0."""
    code, lines = doctor(base_env(redis_url, emulator, config_dir))
    assert code == 0
    for name in (
        "config",
        "signing secret",
        "slack token",
        "scopes",
        "redis appendonly",
        "redis maxmemory-policy",
    ):
        assert lines[name]["status"] == "ok", lines[name]
    assert lines["redis replicas"]["status"] == "warn"  # the test server has no replica


def test_each_failure_is_named_with_its_fix(
    emulator: Emulator, config_dir: Path, tmp_path: Path
) -> None:
    """A server started with appendonly no, a scope not granted, no signing secret: exit 1."""
    server = EmbeddedRedis(tmp_path / "data", appendonly=False)
    url = server.start()
    try:
        emulator.api.scopes = tuple(s for s in emulator.api.scopes or () if s != "pins:write")
        env = base_env(url, emulator, config_dir)
        del env["SLACK_SIGNING_SECRET"]
        code, lines = doctor(env)
        assert code == 1
        assert lines["redis appendonly"]["status"] == "FAIL"
        assert "appendonly yes" in lines["redis appendonly"]["fix"]
        assert lines["redis maxmemory-policy"]["status"] == "ok"
        assert lines["scopes"]["status"] == "FAIL"
        assert lines["scopes"]["detail"] == "not granted: pins:write"
        assert "reinstall" in lines["scopes"]["fix"]
        assert lines["signing secret"]["status"] == "FAIL"

        env.update(SLACK_BOT_TOKEN="xoxb-not-the-bot", SLACK_SIGNING_SECRET="s")
        code, lines = doctor(env)
        assert code == 1
        assert lines["slack token"]["status"] == "FAIL"
        assert "invalid_auth" in lines["slack token"]["detail"]
        assert "Bot User OAuth Token" in lines["slack token"]["fix"]
    finally:
        server.stop()


ALERTS = """\
alert_sources:
  prometheus:
    kind: alertmanager
    token_env: TOCSIN_ALERTS_PROMETHEUS_TOKEN
    heartbeat: {alertname: Watchdog, every: 5m}
  grafana:
    kind: grafana
    token_env: TOCSIN_ALERTS_GRAFANA_TOKEN
"""
FED = """\
schedules:
  fed-primary:
    timezone: UTC
    source: {ics: oncall.ics, refresh: 1m}
"""


def test_silent_alert_sources_and_unread_calendars_fail(
    redis_url: str, r: Any, emulator: Emulator, config_dir: Path
) -> None:
    """A source whose heartbeat never came and a feed never read fail; a beat clears it."""
    (config_dir / "alerts.yaml").write_text(ALERTS)
    (config_dir / "fed.yaml").write_text(FED)
    env = base_env(redis_url, emulator, config_dir)
    code, lines = doctor(env)
    assert code == 1, lines
    assert lines["alerts prometheus"]["status"] == "FAIL"
    assert lines["alerts prometheus"]["detail"] == "last heartbeat never, expected every 300 s"
    assert lines["alerts grafana"]["status"] == "warn"
    assert lines["calendar fed-primary"] == {
        "name": "calendar fed-primary",
        "status": "FAIL",
        "detail": "not read yet",
        "fix": "check the schedule's `source:` URL; a worker reads it",
    }
    AlertStore(r).beat("prometheus", clock.now_ts(), clock.now_ts() + 300)
    assert doctor(env)[1]["alerts prometheus"]["status"] == "ok"


def test_pagers_off_slack_are_reached_without_a_page_and_without_a_secret_shown(
    redis_url: str, emulator: Emulator, config_dir: Path, receiver: Any
) -> None:
    """The watchdog's webhooks: one listening, one refusing connections. The first is ok and
    is sent nothing (a request could page somebody); the second fails the doctor, as does
    a watchdog channel the bot is not in. No line
    shows the webhooks' paths (a key may be there), the bot token or the webhook secret."""
    with socket.socket() as closed:  # a port nothing listens on once closed
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    env = base_env(redis_url, emulator, config_dir)
    env.update(
        TOCSIN_WATCHDOG_URLS=f"{receiver.url}/hook/KEY-IN-PATH,"
        f"http://127.0.0.1:{dead_port}/hook?key=KEY-IN-QUERY",
        TOCSIN_WATCHDOG_SECRET="watchdog-secret-0123456789",
        TOCSIN_WATCHDOG_CHANNEL="C0GENERAL",  # the bot is not in #general
    )
    code, lines = doctor(env)
    assert code == 1
    assert lines["watchdog pager 1"]["status"] == "ok", lines["watchdog pager 1"]
    assert lines["watchdog channel"]["detail"] == "the bot is not in #general"
    assert lines["watchdog channel"]["status"] == "FAIL"
    assert lines["watchdog pager 2"]["status"] == "FAIL"
    assert "TOCSIN_WATCHDOG_URLS" in lines["watchdog pager 2"]["fix"]
    assert receiver.requests == []
    text = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor", "--manifest", str(MANIFEST)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert text.returncode == 1
    assert "FAIL  watchdog pager 2: http://127.0.0.1:" in text.stdout
    assert "  ok  slack token: valid" in text.stdout
    for secret in ("KEY-IN-PATH", "KEY-IN-QUERY", emulator.bot_token, "watchdog-secret"):
        assert secret not in text.stdout + text.stderr
        assert secret not in json.dumps(lines)


def test_the_slack_token_is_checked_at_the_configured_api_base(
    redis_url: str, emulator: Emulator, config_dir: Path
) -> None:
    """SLACK_API_URL pointing nowhere: the token line fails (never passes unchecked), and the
    scopes are not compared against an answer that never came."""
    env = base_env(redis_url, emulator, config_dir)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        env["SLACK_API_URL"] = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
    code, lines = doctor(env)
    assert code == 1
    assert lines["slack token"]["status"] == "FAIL"
    assert "auth.test refused" in lines["slack token"]["detail"]
    assert "scopes" not in lines


def test_page_methods_off_slack_checked_without_a_page(
    redis_url: str, emulator: Emulator, config_dir: Path, receiver: Any
) -> None:
    """Twilio: the sandbox's Twilio accepts the account's SID and token (a Messages read,
    nothing sent), then refuses a wrong token; services.yaml: a PagerDuty service whose key
    is set and a webhook whose secret is not. Nothing reaches a phone, PagerDuty or the
    webhook, and no line shows the token, the key or the webhook's path."""
    (config_dir / "services.yaml").write_text(
        "pagerduty:\n  ops: {routing_key_env: TOCSIN_PD_OPS_KEY}\n"
        f"webhooks:\n  audit: {{url: '{receiver.url}/hook/PATH-KEY', "
        "secret_env: TOCSIN_WEBHOOK_AUDIT_SECRET}\n"
    )
    env = base_env(redis_url, emulator, config_dir) | emulator.twilio.env(emulator.root_url)
    env.update(
        TOCSIN_PD_OPS_KEY="R0UTINGKEY0123456789abcdef012345",
        TOCSIN_PAGERDUTY_EVENTS_URL=emulator.pagerduty_url,
    )
    code, lines = doctor(env)
    assert code == 1
    assert lines["twilio"]["status"] == "ok", lines["twilio"]
    assert lines["pagerduty ops"]["status"] == "ok", lines["pagerduty ops"]
    assert lines["webhook audit"] == {
        "name": "webhook audit",
        "status": "FAIL",
        "detail": "TOCSIN_WEBHOOK_AUDIT_SECRET is not set",
        "fix": "set the signing secret it names",
    }
    env["TOCSIN_TWILIO_AUTH_TOKEN"] = "wrong-token-0123456789"
    code, lines = doctor(env)
    assert lines["twilio"]["status"] == "FAIL"
    assert "HTTP 401" in lines["twilio"]["detail"]
    said = json.dumps(lines)
    for secret in ("wrong-token", "R0UTINGKEY", "PATH-KEY", emulator.twilio.auth_token):
        assert secret not in said
    assert {e["method"] for e in emulator.twilio.log} == {"messages.list"}  # read, never sent
    assert emulator.pagerduty.incidents == {}
    assert receiver.requests == []
