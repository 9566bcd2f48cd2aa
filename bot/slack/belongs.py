"""Which incident a click or a modal submission may act on: the one it belongs to.

A button's value and a modal's private_metadata travel through the client, so they are not
trusted to name the incident. A click in a channel acts only on that channel's incident; a
click in a DM only where the clicker got that incident's DM (a page, an action item's
reminder). A modal's private_metadata is the incident id sealed with an HMAC bound to the
modal and the person it was opened for, keyed from the signing secret (the app-level token
in Socket Mode, which has none): an altered or borrowed one does not open. A refusal writes
nothing and names no other incident.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import structlog
from slack_bolt import Respond

from bot.config.settings import Settings, SettingsError
from bot.domain.incident import Incident
from bot.slack.edge import Click
from bot.state.store import Store

log = structlog.get_logger(__name__)

NOT_HERE = "That button belongs to another incident or conversation; nothing was done."
ALTERED = (
    "This form belongs to another incident or was altered; nothing was done. "
    "Open it again from the incident's channel."
)
# Whether `user` got a DM carrying this incident's buttons.
InDm = Callable[[Incident, str], bool]


def was_paged(incident: Incident, user: str) -> bool:
    """A page DM (Acknowledge, Escalate) goes only to the people paged for its incident."""
    return user in incident.paged


def clicked_incident(
    store: Store, click: Click, incident_id: str, respond: Respond, in_dm: InDm | None = None
) -> Incident | None:
    """The incident `incident_id` when the click came from where its buttons are posted: its
    channel, or a DM `in_dm` says its clicker got. Else tell the clicker and return None."""
    incident: Incident | None = None
    if click.in_dm:
        found = store.find(incident_id) if in_dm is not None and incident_id else None
        if found is not None and in_dm is not None and in_dm(found, click.user_id):
            incident = found
    elif click.channel_id:  # an App Home click has no channel: no incident buttons live there
        here = store.incident_in_channel(click.channel_id)
        if here is not None and here.id == incident_id:
            incident = here
    if incident is None:
        _refuse(click, respond)
    return incident


def first_click(
    store: Store, click: Click, incident_id: str, respond: Respond, key: str, in_dm: InDm
) -> tuple[Incident | None, bool]:
    """`clicked_incident` and the click's retry check (`Store.first_delivery`, `key`) in one
    round trip: the incident (None: refused, the clicker told) and whether this is Slack's
    first delivery of the click. A refused click's delivery is forgotten again, so a retry
    of it is refused in words as before.

    The incident is read by the id the button carries: in a channel it must be that
    channel's incident (a channel belongs to one incident, named in the incident), in a
    DM one `in_dm` says its clicker got."""
    first, found = store.first_delivery_of(key, incident_id)
    if found is None or not incident_id:
        incident = None
    elif click.in_dm:
        incident = found if in_dm(found, click.user_id) else None
    else:  # an App Home click has no channel: no incident buttons live there
        incident = found if click.channel_id and found.channel_id == click.channel_id else None
    if incident is None:
        if first:
            store.forget_delivery(key)
        _refuse(click, respond)
    return incident, first


def _refuse(click: Click, respond: Respond) -> None:
    log.warning(
        "click_refused", action_id=click.action_id, user_id=click.user_id, in_dm=click.in_dm
    )
    respond(text=f":no_entry: {NOT_HERE}", response_type="ephemeral", replace_original=False)


class Seal:
    """Binds a modal's private_metadata to its incident, its kind and its person."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"tocsin modal metadata", hashlib.sha256).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> Seal:
        secret = settings.slack_signing_secret or settings.slack_app_token
        if not secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN in Socket Mode) is needed to seal "
                "the incident a modal was opened for"
            )
        return cls(secret)

    def _mac(self, kind: str, incident_id: str, user: str) -> str:
        message = f"{kind}\n{incident_id}\n{user}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def seal(self, kind: str, incident_id: str, user: str) -> str:
        """The private_metadata of modal `kind` opened for `user` on `incident_id`."""
        return f"{incident_id}:{self._mac(kind, incident_id, user)}"

    def open(self, kind: str, metadata: str, user: str) -> str | None:
        """The incident id `metadata` was sealed with for this modal and person, or None."""
        incident_id, _, mac = metadata.rpartition(":")
        expected = self._mac(kind, incident_id, user).encode()
        if not incident_id or not hmac.compare_digest(mac.encode(), expected):
            log.warning("modal_metadata_refused", callback_id=kind, user_id=user)
            return None
        return incident_id
