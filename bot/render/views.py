"""Modals: declare an incident, post a status update, resolve. Built with slack_sdk.models."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import limits
from bot.domain.durations import format_duration
from bot.domain.incident import Incident
from bot.domain.severity import Tier
from bot.domain.updates import UPDATE_STATUSES
from bot.render.messages import escape

DECLARE, UPDATE, RESOLVE = "declare_incident", "status_update", "resolve_incident"
AFFECTED = {"none": 0.0, "lt5": 1.0, "5to25": 5.0, "gt25": 25.0}
AFFECTED_LABELS = {
    "none": "Nobody yet",
    "lt5": "Under 5%",
    "5to25": "5–25%",
    "gt25": "Over 25%",
}
IMPACT_FLAGS = {
    "revenue_impact": "Revenue is affected",
    "legal_or_regulatory": "Legal or regulatory exposure",
    "data_loss": "Data loss or corruption",
}
NEXT_IN = (900, 1800, 3600, 7200, 14400)
FIELD = limits.UPDATE_FIELD


def _input(
    block_id: str, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional, hint=hint)


def _text(
    action_id: str, *, multiline: bool = False, initial: str | None = None, max_length: int = 3000
) -> PlainTextInputElement:
    return PlainTextInputElement(
        action_id=action_id,
        multiline=multiline,
        initial_value=initial or None,
        max_length=max_length,
    )


def _long(action_id: str, cap: limits.Cap) -> PlainTextInputElement:
    """A multi-line input that stops at `cap` (the listener checks it again)."""
    return _text(action_id, multiline=True, max_length=cap.limit)


def _select(
    action_id: str, options: list[tuple[str, str]], initial: str | None = None
) -> StaticSelectElement:
    opts = [Option(value=v, label=label[:75]) for v, label in options]
    chosen = next((o for o in opts if o.value == initial), None)
    return StaticSelectElement(
        action_id=action_id, options=opts, initial_option=chosen, placeholder="Choose"
    )


def declare_modal(
    services: list[str],
    tiers: tuple[Tier, ...],
    *,
    title: str | None,
    severity: str | None,
    channel: str,
) -> dict[str, Any]:
    """Title, service, impact questions (which suggest the severity), private?, description;
    `channel`: where it was opened (sealed, `belongs.Seal`), to announce the incident there."""
    service_opts = [(s, s) for s in services[:99]] + [("other", "Other / not sure")]
    sev_opts = [("auto", "Decide from the impact answers")] + [
        (t.name, f"{t.name.upper()} — {t.label}") for t in tiers
    ]
    view = View(
        type="modal",
        callback_id=DECLARE,
        private_metadata=channel,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        blocks=[
            _input("title", "Title", _text("title", initial=title, max_length=limits.TITLE.limit)),
            _input("service", "Service", _select("service", service_opts)),
            _input(
                "users_affected",
                "Share of users affected",
                _select("users_affected", list(AFFECTED_LABELS.items()), "none"),
            ),
            _input(
                "impact",
                "Impact",
                CheckboxesElement(
                    action_id="impact",
                    options=[Option(value=k, label=v) for k, v in IMPACT_FLAGS.items()],
                ),
                optional=True,
            ),
            _input(
                "severity",
                "Severity",
                _select("severity", sev_opts, severity or "auto"),
                hint="The impact answers raise the severity to the tier whose criteria they meet.",
            ),
            _input(
                "private",
                "Visibility",
                CheckboxesElement(
                    action_id="private",
                    options=[
                        Option(
                            value="private",
                            label="Private: restricted channel, no details in announcements",
                        )
                    ],
                ),
                optional=True,
            ),
            _input(
                "description",
                "What do you see?",
                _long("description", limits.DESCRIPTION),
                optional=True,
            ),
        ],
    )
    return view.to_dict()


def update_modal(incident: Incident, cadence_s: int, metadata: str) -> dict[str, Any]:
    """The status-update template: status, symptoms, actions, next steps, next update in.
    `metadata`: the incident id sealed for this modal and person (`belongs.Seal`)."""
    status = "monitoring" if incident.status.value == "mitigated" else "investigating"
    next_opts = [(str(s), format_duration(s)) for s in sorted({*NEXT_IN, cadence_s})]
    view = View(
        type="modal",
        callback_id=UPDATE,
        private_metadata=metadata,
        title="Status update",
        submit="Post update",
        close="Cancel",
        blocks=[
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"*{escape(incident.title)}* · {incident.severity.upper()} · "
                        "facts, not speculation"
                    )
                ]
            ),
            _input(
                "status",
                "Status",
                _select("status", [(s, s.capitalize()) for s in UPDATE_STATUSES], status),
                hint="Fixed? Resolve the incident with the header's Resolve button instead.",
            ),
            _input("symptoms", "Symptoms observed", _long("symptoms", FIELD)),
            _input("actions", "Actions taken", _long("actions", FIELD)),
            _input("next_steps", "Next steps", _long("next_steps", FIELD)),
            _input("next_in", "Next update in", _select("next_in", next_opts, str(cadence_s))),
        ],
    )
    return view.to_dict()


def resolve_modal(incident: Incident, metadata: str) -> dict[str, Any]:
    """A resolution summary; `metadata` as for `update_modal`."""
    view = View(
        type="modal",
        callback_id=RESOLVE,
        private_metadata=metadata,
        title="Resolve incident",
        submit="Resolve",
        close="Cancel",
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=f"*{escape(incident.title)}*")]),
            _input(
                "summary",
                "Resolution summary",
                _long("summary", limits.SUMMARY),
                optional=True,
            ),
        ],
    )
    return view.to_dict()
