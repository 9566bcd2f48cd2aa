"""`GET /notify/ack/<token>`: what pressing the button would do; `POST`: do it.

GET never acknowledges: mail scanners and link previews open every link in a message, and
an acknowledgement they made would stop the person's later pages. GET checks the token and
shows the incident, who acknowledges and a button; the button POSTs to the same address.

The POST needs no separate CSRF token: the token in its address is the only credential the
request carries (there is no cookie or session to ride on), so a page elsewhere can only
make a browser POST a token it already holds, and holding it is the right to acknowledge.
The token is spent before the acknowledgement (one of two concurrent POSTs wins; the other
says "already used"), and given back if the acknowledgement failed without an answer.

A refused link (forged, expired, used, or naming a page its incident does not have) gets
403 or 410 and a page that names no incident: a wrong token learns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from bot import clock
from bot.domain.incident import Incident
from bot.inbound.html import page, plain
from bot.incident.commands import Engine
from bot.notify.links import PATH, AckLink, AckLinks, LinkProblem, LinkRefused
from bot.state.store import IncidentNotFound

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


REFUSALS = {
    LinkProblem.FORGED: Answer(
        403,
        page(
            "This link does not work",
            "It is not a Tocsin acknowledge link, or it was changed on the way.",
            "Acknowledge the page in Slack or by another way it reached you.",
        ),
    ),
    LinkProblem.EXPIRED: Answer(
        410,
        page(
            "This link has expired",
            "Acknowledge links work for a limited time. Nothing was changed.",
            "Acknowledge the page in Slack or by another way it reached you.",
        ),
    ),
    LinkProblem.USED: Answer(
        410,
        page(
            "This link was already used",
            "Each acknowledge link works once, and this one was pressed before. "
            "Nothing was changed now.",
        ),
    ),
}


class AckPages:
    def __init__(self, engine: Engine, links: AckLinks) -> None:
        self.engine, self.links = engine, links

    def show(self, token: str) -> Answer:
        """The confirm page: nothing is spent or changed."""
        try:
            link = self.links.check(token, clock.now_ts())
            incident = self._paged(link)
        except LinkRefused as refused:
            return REFUSALS[refused.problem]
        return Answer(
            200,
            page(
                f"Acknowledge {incident.severity.upper()} {incident.id}?",
                f"Incident: {incident.title}",
                f"Status now: {incident.status.value}.",
                f"Pressing the button acknowledges the incident as {link.user}, the person "
                "this page was sent to: your later pages for it stop and the incident "
                "channel says you acknowledged. The link then stops working.",
                form_action=PATH + token,
                button="Acknowledge",
            ),
        )

    def confirm(self, token: str) -> Answer:
        """The button: spend the link, acknowledge as its person, say what happened."""
        now = clock.now_ts()
        try:
            self._paged(self.links.check(token, now))  # a wrong page spends nothing
            link = self.links.spend(token, now)
        except LinkRefused as refused:
            return REFUSALS[refused.problem]
        try:
            outcome = self.engine.acknowledge(link.incident_id, link.user)
        except Exception:
            self.links.unspend(token)  # nothing was answered: the person may press again
            raise
        log.info("ack_link_used", incident_id=link.incident_id, user_id=link.user, ok=outcome.ok)
        label = f"{outcome.incident.severity.upper()} {outcome.incident.id}"
        if outcome.ok:
            return Answer(
                200,
                page(
                    f"Acknowledged {label}",
                    f"Incident: {outcome.incident.title}",
                    f"Done: {plain(outcome.message)}. The incident channel says so.",
                ),
            )
        return Answer(
            409,
            page(f"Not acknowledged: {label}", f"Nothing changed: {plain(outcome.message)}"),
        )

    def _paged(self, link: AckLink) -> Incident:
        """The incident of `link`, if it paged the link's person by the link's outbox key;
        LinkRefused(FORGED) otherwise (a genuine token never names another incident's key)."""
        store = self.engine.store
        try:
            incident = store.get(link.incident_id)
        except IncidentNotFound:
            raise LinkRefused(LinkProblem.FORGED) from None
        if not any(i.key == link.key and i.to == link.user for i in store.outbox(incident.id)):
            raise LinkRefused(LinkProblem.FORGED)
        return incident
