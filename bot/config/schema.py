"""JSON Schema of the config files, for editors (e.g. yaml-language-server)."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from bot.config.alerts import AlertsFile
from bot.config.drills import DrillsFile
from bot.config.models import PolicyFile, SchedulesFile, SeveritiesFile
from bot.config.people import PeopleFile
from bot.config.services import ServicesFile

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """A JSON Schema accepting any one of: a policy, schedules, severities, alert sources,
    drills, outside services or people file."""
    models = (
        PolicyFile,
        SchedulesFile,
        SeveritiesFile,
        AlertsFile,
        DrillsFile,
        ServicesFile,
        PeopleFile,
    )
    refs, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/$defs/{model}"
    )
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Tocsin escalation config",
        "description": (
            "One file of an escalation_policies/ directory: an escalation policy "
            "(name, services, steps), on-call `schedules:`, severity `severities:`, or "
            "`alert_sources:` (alerts in over HTTP), scheduled `drills:`, outside "
            "services (`pagerduty:`, `webhooks:`) that policy steps may notify, or `people:` "
            "and their notification rules."
        ),
        "anyOf": [refs[(m, "validation")] for m in models],
        "$defs": top.get("$defs", {}),
    }
