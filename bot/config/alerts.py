"""The model of `alerts.yaml` (top-level `alert_sources:`) and its conversion to domain sources.

Environment variable names are checked for shape here; whether they are set is checked
when `tocsin web` answers a sender (a source whose secret is unset refuses everyone).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.config.fields import Duration
from bot.domain.alerts.sources import (
    AlertSource,
    Heartbeat,
    Matcher,
    OnClear,
    Route,
    SeverityFrom,
    SourceKind,
    Storm,
)
from bot.domain.durations import parse_duration

ENV_PATTERN = r"^[A-Z_][A-Z0-9_]*$"


def _seconds(text: str) -> int:
    return int(parse_duration(text).total_seconds())


def _matcher(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text; quote it")
    if value.startswith("=~"):
        try:
            re.compile(value[2:])
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    return value


MatchValue = Annotated[
    str,
    BeforeValidator(_matcher),
    Field(description='A label value, or "=~" and a regular expression matching all of it.'),
]
EnvName = Annotated[
    str,
    Field(pattern=ENV_PATTERN, description="The name of an environment variable."),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SeverityFromModel(_Model):
    """Take the severity from a label's value."""

    label: str = Field(min_length=1)
    map: dict[str, str] = Field(min_length=1, description="Label value -> severity.")
    default: str = Field(min_length=1, description="The severity for any other value.")


class RouteModel(_Model):
    """Alerts whose labels match go to `service` at a severity."""

    match: dict[str, MatchValue] = Field(default_factory=dict)
    service: str = Field(default="*", min_length=1)
    severity: str | None = None
    severity_from: SeverityFromModel | None = None

    @model_validator(mode="after")
    def _one_severity(self) -> RouteModel:
        if self.severity is not None and self.severity_from is not None:
            raise ValueError("give severity or severity_from, not both")
        return self

    def to_route(self) -> Route:
        sf = self.severity_from
        return Route(
            matchers=tuple(Matcher(k, v) for k, v in self.match.items()),
            service=self.service,
            severity=self.severity,
            severity_from=SeverityFrom(sf.label, dict(sf.map), sf.default) if sf else None,
        )


class StormModel(_Model):
    """Past `new_groups` new groups within `within`, further groups join one storm incident."""

    new_groups: int = Field(default=10, ge=1, le=1000)
    within: Duration = "1m"


class HeartbeatModel(_Model):
    """A dead man's switch: `alertname` fires every `every`; silence for two intervals is an
    incident."""

    alertname: str = Field(min_length=1)
    every: Duration


class SourceModel(_Model):
    """One sender of alerts, at POST /alerts/<name>."""

    kind: Literal["alertmanager", "grafana", "generic"]
    token_env: EnvName | None = Field(
        default=None, description='Holds the token sent as "Authorization: Bearer <token>".'
    )
    hmac_secret_env: EnvName | None = Field(
        default=None, description="Holds the secret of an HMAC-SHA256 signature of the body."
    )
    signature_header: str = Field(default="X-Grafana-Alerting-Signature", min_length=1)
    timestamp_header: str | None = Field(
        default=None, description="Grafana's optional timestamp header, signed with the body."
    )
    group_by: Literal["group_key", "fingerprint"] | list[str] = "group_key"
    routes: list[RouteModel] = Field(default_factory=list)
    default: RouteModel = Field(default_factory=lambda: RouteModel(severity="sev3"))
    on_clear: Literal["notify", "mitigate", "resolve"] = "notify"
    reopen_within: Duration = "30m"
    storm: StormModel = Field(default_factory=StormModel)
    heartbeat: HeartbeatModel | None = None

    @model_validator(mode="after")
    def _credentials(self) -> SourceModel:
        if self.token_env is None and self.hmac_secret_env is None:
            raise ValueError("give token_env or hmac_secret_env: a source must prove who it is")
        if isinstance(self.group_by, list) and not self.group_by:
            raise ValueError("group_by: list at least one label")
        if self.default.match:
            raise ValueError("default: takes no match (it applies when no route matches)")
        return self

    def to_source(self, name: str) -> AlertSource:
        hb = self.heartbeat
        return AlertSource(
            name=name,
            kind=SourceKind(self.kind),
            token_env=self.token_env,
            hmac_secret_env=self.hmac_secret_env,
            signature_header=self.signature_header,
            timestamp_header=self.timestamp_header,
            group_by=tuple(self.group_by) if isinstance(self.group_by, list) else self.group_by,
            routes=tuple(r.to_route() for r in self.routes),
            default=self.default.to_route(),
            on_clear=OnClear(self.on_clear),
            reopen_within_s=_seconds(self.reopen_within),
            storm=Storm(self.storm.new_groups, _seconds(self.storm.within)),
            heartbeat=Heartbeat(hb.alertname, _seconds(hb.every)) if hb else None,
        )


SourceName = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="The <source> of the URL.")
]


class AlertsFile(_Model):
    """Alert sources by name: who may post alerts to Tocsin and where they route."""

    model_config = ConfigDict(title="Alert sources")

    alert_sources: dict[SourceName, SourceModel] = Field(min_length=1)
