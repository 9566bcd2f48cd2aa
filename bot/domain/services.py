"""Services outside Slack that a policy step may notify: `pagerduty:<name>` (an Events API v2
integration) and `webhook:<name>` (a signed POST), as `services.yaml` names them.

Secrets are never here: each service names the environment variable that holds its routing
key or signing secret, read when the method is built (bot.notify).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class PagerDutyService:
    """A PagerDuty service reached through one Events API v2 integration."""

    name: str
    routing_key_env: str  # holds the integration's routing key (its "Integration Key")


@dataclass(frozen=True)
class WebhookService:
    """A receiver of signed JSON POSTs."""

    name: str
    url: str
    secret_env: str  # holds the HMAC-SHA256 signing secret
    timeout_s: float = 10.0


@dataclass(frozen=True)
class OutsideServices:
    """Every outside service, by name."""

    pagerduty: Mapping[str, PagerDutyService] = field(default_factory=dict)
    webhooks: Mapping[str, WebhookService] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pagerduty", MappingProxyType(dict(self.pagerduty)))
        object.__setattr__(self, "webhooks", MappingProxyType(dict(self.webhooks)))
