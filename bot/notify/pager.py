"""The pager a worker delivers with: a Slack DM or post by the Slack pager, a page by any
other method by that method (`bot.notify.registry`), each with the same exactly-once
mechanism: the attempt is recorded before the send, and a retry asks `find` first."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import structlog

from bot.domain.incident import Incident
from bot.domain.notify import SLACK
from bot.domain.outbox import OutboxKind
from bot.domain.policy import service_target
from bot.notify import Follows, Notice
from bot.notify.registry import Methods
from bot.paging import Pager, Undeliverable
from bot.state.replies import ReplyBook
from bot.state.store import OutboxItem

log = structlog.get_logger(__name__)
# the notice with its signed acknowledge link, for a method (its name) that shows one
AckLink = Callable[[Notice, str], Notice]


def reply_code(incident_id: str, key: str) -> str:
    """A 4-digit code a reply or keypress names the page by (the same on every retry)."""
    digest = hashlib.sha256(f"{incident_id}\0{key}".encode()).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 10000:04d}"


def notice_for(item: OutboxItem, incident: Incident, ack_link: AckLink | None = None) -> Notice:
    """What a page by a method other than Slack says, in plain text. A service a step
    notified (`pagerduty:ops`) is nobody who could reply: its notice names no user and no
    reply code."""
    person = service_target(item.to) is None
    code = reply_code(incident.id, item.key) if person else None
    how = f"Acknowledge in Slack, or reply ACK {code}." if code else "Acknowledge in Slack."
    summary = (
        f"{incident.severity.upper()} incident {incident.id}: {incident.title} "
        f"(service {incident.service}). {how}"
    )
    notice = Notice(
        incident_id=incident.id,
        key=item.key,
        title=incident.title,
        severity=incident.severity,
        service=incident.service,
        summary=summary,
        user=item.to if person else None,
        reply_code=code,
    )
    return notice if ack_link is None else ack_link(notice, item.method)


class NotifyPager:
    """A `Pager` over the Slack pager (`slack`) and the methods off Slack (`methods`); each
    notice sent is remembered in `replies`, so an acknowledgement by reply finds its page."""

    def __init__(
        self,
        slack: Pager,
        methods: Methods,
        replies: ReplyBook | None = None,
        ack_link: AckLink | None = None,
    ) -> None:
        self.slack, self.methods, self.replies, self.ack_link = slack, methods, replies, ack_link

    @staticmethod
    def _by_slack(item: OutboxItem) -> bool:
        off_slack = (OutboxKind.PAGE, OutboxKind.FOLLOW)
        return item.kind not in off_slack or item.method == SLACK

    def deliver(self, item: OutboxItem, incident: Incident) -> str:
        if self._by_slack(item):
            return self.slack.deliver(item, incident)
        method = self.methods.get(item.method)
        if method is None or not item.address:
            raise Undeliverable("no_method", f"{item.method} is not set up on this Tocsin")
        if item.kind is OutboxKind.FOLLOW:
            if not isinstance(method, Follows):
                raise Undeliverable("no_method", f"{item.method} keeps no alert to follow")
            return method.follow(item.text, item.address, incident.id)
        notice = notice_for(item, incident, self.ack_link)
        ref = method.send(notice, item.address)
        if self.replies is not None and notice.user is not None:  # a service sends no reply
            try:
                self.replies.record(
                    item.method, item.address, incident.id, item.to, notice.reply_code
                )
            except Exception:  # the page went out: a reply can still be acknowledged in Slack
                log.warning("reply_not_recorded", incident_id=incident.id, key=item.key)
        return ref

    def find(self, item: OutboxItem, incident: Incident, since: float) -> str | None:
        if self._by_slack(item):
            return self.slack.find(item, incident, since)
        method = self.methods.get(item.method)
        if method is None or not item.address or item.kind is OutboxKind.FOLLOW:
            return None  # a follow is resent: the alert's state is the same after it twice
        return method.find(notice_for(item, incident, self.ack_link), item.address, since)

    def ready_in(self, item: OutboxItem, incident: Incident) -> float:
        return self.slack.ready_in(item, incident) if self._by_slack(item) else 0.0

    def revise(self, page: OutboxItem, incident: Incident) -> None:
        if self._by_slack(page):  # a text or an email once sent stays as it was
            self.slack.revise(page, incident)
