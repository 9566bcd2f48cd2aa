"""The model of `services.yaml`: services outside Slack a policy step may notify.

    pagerduty:
      ops: {routing_key_env: TOCSIN_PD_OPS_KEY}           # policy target pagerduty:ops
    webhooks:
      audit:                                              # policy target webhook:audit
        url: https://audit.example.com/tocsin
        secret_env: TOCSIN_WEBHOOK_AUDIT_SECRET

A file of its own kind (top-level `pagerduty:` and/or `webhooks:`), like `alerts.yaml`:
environment variable names are checked for shape here; whether they are set is checked when
a worker builds the method (bot.notify), which then says which variable is missing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.config.alerts import EnvName
from bot.domain.services import OutsideServices, PagerDutyService, WebhookService

ServiceName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="The <name> of a pagerduty:<name> or webhook:<name> policy target.",
    ),
]


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r} is not an https:// (or http://) URL")
    if any(c.isspace() for c in value):
        raise ValueError("a URL has no spaces")
    return value


WebhookUrl = Annotated[
    str,
    BeforeValidator(_url),
    Field(description="Where the POST goes: an https:// (or http://) URL."),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PagerDutyModel(_Model):
    """One Events API v2 integration of a PagerDuty service."""

    routing_key_env: EnvName = Field(
        description="Holds the integration's routing key (PagerDuty's 'Integration Key')."
    )


class WebhookModel(_Model):
    """A receiver of HMAC-SHA256 signed JSON POSTs (X-Tocsin-Signature: t=<ts>,v1=<hex>)."""

    url: WebhookUrl
    secret_env: EnvName = Field(description="Holds the HMAC-SHA256 signing secret.")
    timeout_s: float = Field(default=10.0, gt=0, le=60, description="Seconds to wait for it.")


class ServicesFile(_Model):
    """Services outside Slack by name: PagerDuty integrations and signed webhooks."""

    model_config = ConfigDict(title="Outside services")

    pagerduty: dict[ServiceName, PagerDutyModel] = Field(default_factory=dict)
    webhooks: dict[ServiceName, WebhookModel] = Field(default_factory=dict)

    def to_services(self) -> OutsideServices:
        return OutsideServices(
            pagerduty={
                n: PagerDutyService(n, m.routing_key_env) for n, m in self.pagerduty.items()
            },
            webhooks={
                n: WebhookService(n, m.url, m.secret_env, m.timeout_s)
                for n, m in self.webhooks.items()
            },
        )
