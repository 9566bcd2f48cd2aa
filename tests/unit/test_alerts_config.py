"""alerts.yaml: the example loads, mistakes are named at path:line, routes pick as documented,
and a sender's credentials are checked (bearer token, Grafana's HMAC)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from bot.alerts.verify import verified
from bot.config import ConfigError, json_schema, load_catalog
from bot.domain.alerts.sources import AlertSource, OnClear, SourceKind

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "p.yaml": "name: web\nservices: ['*']\nsteps:\n  - notify: [user:U0LEAD1]\n    wait: 5m\n",
    "s.yaml": "severities:\n  sev1: {label: Outage, update_every: 15m}\n"
    "  sev2: {label: Bad, update_every: 30m}\n  sev3: {label: Minor, update_every: 1h}\n",
}


def _load(tmp_path: Path, alerts: str) -> AlertSource:
    for name, text in {**BASE, "alerts.yaml": alerts}.items():
        (tmp_path / name).write_text(text)
    return load_catalog(tmp_path).alert_sources["prom"]


def _problems(tmp_path: Path, alerts: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, alerts)
    return [str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems]


def test_the_example_loads_as_the_issue_gives_it() -> None:
    sources = load_catalog(ROOT / "escalation_policies").alert_sources
    prom, grafana = sources["prometheus"], sources["grafana"]
    assert prom.kind is SourceKind.ALERTMANAGER
    assert prom.on_clear is OnClear.NOTIFY
    assert (prom.reopen_within_s, prom.storm.new_groups, prom.storm.within_s) == (1800, 10, 60)
    assert prom.heartbeat is not None
    assert prom.heartbeat.every_s == 300
    assert grafana.hmac_secret_env == "TOCSIN_ALERTS_GRAFANA_SECRET"
    assert "alert_sources" in str(json_schema())


def test_routes_first_match_wins_regex_and_severity_from(tmp_path: Path) -> None:
    source = _load(
        tmp_path,
        "alert_sources:\n  prom:\n    kind: alertmanager\n    token_env: T\n    routes:\n"
        "      - match: {team: payments}\n        service: checkout\n"
        "        severity_from: {label: severity, map: {critical: sev1}, default: sev2}\n"
        '      - match: {alertname: "=~Disk.*"}\n        service: platform\n'
        "        severity: sev3\n"
        "    default: {service: '*', severity: sev3}\n",
    )
    assert source.route({"team": "payments", "severity": "critical"}, "sev3") == (
        "checkout",
        "sev1",
    )
    assert source.route({"team": "payments", "alertname": "DiskFull"}, "sev3") == (
        "checkout",
        "sev2",
    )
    assert source.route({"alertname": "DiskFull"}, "sev3") == ("platform", "sev3")
    assert source.route({"alertname": "xDiskFull"}, "sev3") == ("*", "sev3")  # anchored


def test_mistakes_are_named_at_path_and_line(tmp_path: Path) -> None:
    unknown = _problems(
        tmp_path,
        "alert_sources:\n  prom:\n    kind: alertmanager\n    token_env: T\n"
        "    routes:\n      - match: {team: x}\n        severity: sev9\n",
    )
    assert unknown == [
        "alerts.yaml:7: alert_sources.prom.routes[0].severity: unknown severity 'sev9' "
        "(known: sev1, sev2, sev3); did you mean 'sev3'?"
    ]
    anonymous = _problems(tmp_path, "alert_sources:\n  prom:\n    kind: generic\n")
    assert anonymous == [
        "alerts.yaml:2: alert_sources.prom: give token_env or hmac_secret_env: "
        "a source must prove who it is"
    ]


def _source(**kw: object) -> AlertSource:
    return AlertSource(name="s", kind=SourceKind.GRAFANA, **kw)  # type: ignore[arg-type]


def test_bearer_token_is_checked_and_an_unset_one_refuses_everyone() -> None:
    source = _source(token_env="TOK")
    auth = {"HTTP_AUTHORIZATION": "Bearer s3cret"}
    assert verified(source, auth, b"{}", {"TOK": "s3cret"}, 0)
    assert not verified(source, {"HTTP_AUTHORIZATION": "Bearer wrong"}, b"{}", {"TOK": "s3cret"}, 0)
    assert not verified(source, {"HTTP_AUTHORIZATION": "Bearer "}, b"{}", {}, 0)


def test_grafana_hmac_of_the_body_and_of_timestamp_colon_body() -> None:
    """Grafana docs, "Configure webhook notifications", "HMAC signature": hex HMAC-SHA256 of
    the body, or of `timestamp:body` when a timestamp header is configured."""
    body, env = b'{"alerts": []}', {"SEC": "k"}
    sig = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    plain = _source(hmac_secret_env="SEC")
    assert verified(plain, {"HTTP_X_GRAFANA_ALERTING_SIGNATURE": sig}, body, env, 0)
    assert not verified(plain, {"HTTP_X_GRAFANA_ALERTING_SIGNATURE": sig}, body + b" ", env, 0)
    stamped = _source(hmac_secret_env="SEC", timestamp_header="X-Ts")
    sig_ts = hmac.new(b"k", b"1000:" + body, hashlib.sha256).hexdigest()
    headers = {"HTTP_X_GRAFANA_ALERTING_SIGNATURE": sig_ts, "HTTP_X_TS": "1000"}
    assert verified(stamped, headers, body, env, 1000)
    assert not verified(stamped, headers, body, env, 2000)  # a replay, too old
