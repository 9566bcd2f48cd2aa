"""The incident channel: create it, pin a live header, bookmark the runbook, invite people.

`open` is a job and idempotent: each step checks what an earlier (crashed) attempt already
did. `refresh` keeps the pinned header and the topic current after every change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.client import Pipeline
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock
from bot.domain import policy as planner
from bot.domain.alerts.sources import source_of
from bot.domain.catalog import Catalog
from bot.domain.incident import Incident
from bot.domain.naming import channel_name
from bot.domain.policy import EscalationStatus, Target, service_target
from bot.domain.runbook import Runbook, RunbookIndex
from bot.domain.timeline import BOT, Entry, Kind
from bot.incident import targets
from bot.render import blocks, messages
from bot.render.runbook import runbook_blocks, runbook_text
from bot.slack_api.directory import Directory
from bot.slack_api.history import find_posted, tag
from bot.state import keys
from bot.state.leases import Leases
from bot.state.store import Store
from bot.state.timers import Timers

log = structlog.get_logger(__name__)


def _channel(incident: Incident) -> str:
    if incident.channel_id is None:
        raise RuntimeError(f"incident {incident.id} has no channel yet")
    return incident.channel_id


def _ignore(client_call: Callable[[], Any], *errors: str) -> Any:
    try:
        return client_call()
    except SlackApiError as exc:
        if exc.response.get("error") in errors:
            return None
        raise


@dataclass
class ChannelService:
    store: Store
    client: WebClient
    catalog: Callable[[], Catalog]
    directory: Directory  # who a policy target names, for "paged next" in the header
    timers: Timers
    runbooks: Callable[[], RunbookIndex]
    owner: str = "tocsin"  # this worker's name, holding the open lease
    lease_s: float = 30.0

    def runbook_for(self, incident: Incident) -> Runbook | None:
        return self.runbooks().for_service(incident.service)

    def open(self, incident_id: str) -> str | None:
        """Open the incident's channel, under a lease renewed while it works: a second open
        job (the reconciler's, once the first one's worker died) waits for the lease to go,
        so two live workers never create a channel each. None: another worker has it."""
        with Leases(self.store.r).kept(
            keys.channel_opening(incident_id), self.owner, self.lease_s
        ) as mine:
            if not mine:
                log.info("channel_opening_elsewhere", incident_id=incident_id)
                return None
            return self._open(incident_id)

    def _open(self, incident_id: str) -> str:
        incident = self.store.get(incident_id)
        if incident.channel_id is None:
            incident = self._create(incident)
        self._set_topic(incident)
        if incident.header_ts is None:
            incident = self._post_header(incident)
        everyone = [incident.declared_by, *incident.roles.holders(), *incident.paged]
        # an alert source is nobody, nor an outside service a step notified (pagerduty:ops)
        people = [p for p in everyone if source_of(p) is None and service_target(p) is None]
        channel = _channel(incident)
        _ignore(
            lambda: self.client.conversations_invite(
                channel=channel, users=",".join(dict.fromkeys(people))
            ),
            "already_in_channel",
            "cant_invite_self",
            # a paged id Slack does not know (or a deactivated account) must not stop the
            # channel: each page that lands invites its person again (SlackPager._invite)
            "user_not_found",
            "user_disabled",
        )
        self._bookmark_runbook(incident)
        self.timers.schedule_drain(incident_id)  # announcements waiting for the channel
        return str(incident.channel_id)

    def _create(self, incident: Incident) -> Incident:
        for attempt in range(10):
            name = channel_name(
                incident.id, incident.title, attempt, private=incident.private, drill=incident.drill
            )
            try:
                created = self.client.conversations_create(name=name, is_private=incident.private)
                break
            except SlackApiError as exc:
                if exc.response.get("error") != "name_taken":
                    raise
        else:
            raise RuntimeError(f"no free channel name for {incident.id} after 10 tries")
        channel = str(created["channel"]["id"])
        now = clock.now()

        def link(inc: Incident, pipe: Pipeline) -> Incident:
            updated = replace(inc, channel_id=channel)
            self.store.put(updated, pipe)
            self.store.link_channel(channel, inc.id, pipe)
            self.store.record(
                inc.id, Entry(now, Kind.CHANNEL_OPENED, BOT, f"opened <#{channel}>"), pipe
            )
            return updated

        log.info("incident_channel_created", incident_id=incident.id, channel=channel, name=name)
        return self.store.update(incident.id, link)

    def _post_header(self, incident: Incident) -> Incident:
        runbook = self.runbook_for(incident)
        header = self.header(incident, runbook)
        channel = _channel(incident)
        ts = self._posted_header(incident, channel)  # an earlier attempt may have landed
        if ts is None:
            attempt = keys.channel_marker(incident.id, "header_attempt")
            self.store.markers.put(attempt, clock.now_ts())
            posted = self.client.chat_postMessage(
                channel=channel,
                text=messages.topic(incident),
                blocks=header,
                metadata=tag("tocsin_header", (incident.id, "header")),
            )
            ts = str(posted["ts"])
        _ignore(
            lambda: self.client.pins_add(channel=channel, timestamp=ts),
            "already_pinned",
        )

        def keep(inc: Incident, pipe: Pipeline) -> Incident:
            updated = replace(inc, header_ts=inc.header_ts or ts)
            self.store.put(updated, pipe)
            return updated

        return self.store.update(incident.id, keep)

    def _posted_header(self, incident: Incident, channel: str) -> str | None:
        """The ts of a header an earlier, interrupted attempt posted (Slack did it, the
        client saw an error), so a retry pins that one instead of posting a second."""
        attempted = self.store.markers.get(keys.channel_marker(incident.id, "header_attempt"))
        if attempted is None:
            return None
        return find_posted(self.client, channel, float(attempted) - 5, (incident.id, "header"))

    def _bookmark_runbook(self, incident: Incident) -> None:
        runbook = self.runbook_for(incident)
        marker = keys.channel_marker(incident.id, "runbook")
        if runbook is None or not self.store.markers.first(marker, 86400, "posting"):
            return
        channel = _channel(incident)
        posted = self.client.chat_postMessage(channel=channel, **_runbook_post(incident, runbook))
        link = self.client.chat_getPermalink(channel=channel, message_ts=posted["ts"])
        self.client.bookmarks_add(
            channel_id=channel,
            title=f"Runbook: {runbook.title}"[:80],
            type="link",
            link=link["permalink"],
        )
        self.store.markers.put(marker, str(posted["ts"]), 30 * 86400)

    def post_runbook(self, incident: Incident) -> bool:
        runbook = self.runbook_for(incident)
        if runbook is None or incident.channel_id is None:
            return False
        self.client.chat_postMessage(
            channel=incident.channel_id, **_runbook_post(incident, runbook)
        )
        return True

    def header(self, incident: Incident, runbook: Runbook | None) -> list[dict[str, Any]]:
        label = self.catalog().tier(incident.severity).label
        return blocks.header_blocks(
            incident, label, self.next_page(incident), runbook.title if runbook else None
        )

    def next_page(self, incident: Incident) -> str | None:
        """Who is paged next and when, as the header shows it."""
        state = incident.escalation
        if incident.policy is None:
            return "no escalation policy"
        if state.status is EscalationStatus.EXHAUSTED:
            return ":warning: policy exhausted"
        if state.status is not EscalationStatus.ACTIVE or state.due_at is None:
            return "nobody (escalation stopped)"
        nxt = planner.next_position(incident.policy, state.step, state.loop)
        if nxt is None:
            return f"nobody: the policy is exhausted {messages.slack_date(state.due_at)}"
        due = datetime.fromtimestamp(state.due_at, UTC)
        people = planner.resolve_step(incident.policy.steps[nxt[0]], due, self._lookup)
        who = ", ".join(messages.recipient(u) for u, _ in people)
        who = who or "nobody (step resolves to no one)"
        return f"{who} {messages.slack_date(state.due_at)} (step {nxt[0] + 1})"

    def _lookup(self, target: Target, at: datetime) -> Sequence[str]:
        return targets.lookup(self.catalog, self.directory, target, at)

    def refresh(self, incident_id: str) -> None:
        incident = self.store.get(incident_id)
        if incident.channel_id is None or incident.header_ts is None:
            return  # open() will post a current header
        self.client.chat_update(
            channel=incident.channel_id,
            ts=incident.header_ts,
            text=messages.topic(incident),
            blocks=self.header(incident, self.runbook_for(incident)),
        )
        self._set_topic(incident)

    def _set_topic(self, incident: Incident) -> None:
        topic = messages.topic(incident)
        key = keys.channel_marker(incident.id, "topic")
        if self.store.markers.get(key) == topic:
            return
        self.client.conversations_setTopic(channel=_channel(incident), topic=topic)
        self.store.markers.put(key, topic, 30 * 86400)


@dataclass(frozen=True)
class HeaderRefresh:
    """How a change reaches the pinned header: refreshed in this process (`inline`: a worker,
    no job per refresh), by a job (the web process), or not at all (no Slack, no header)."""

    timers: Timers
    channels: ChannelService | None  # None: no Slack, so no header
    inline: bool

    def __call__(self, incident_id: str) -> None:
        if self.channels is None:
            return
        if not self.inline:
            self.timers.refresh_header(incident_id)
            return
        try:
            self.channels.refresh(incident_id)
        except Exception:  # Slack down: a job with retries takes it over
            log.warning("header_refresh_deferred", incident_id=incident_id, exc_info=True)
            self.timers.refresh_header(incident_id)


def _runbook_post(incident: Incident, runbook: Runbook) -> dict[str, Any]:
    """The runbook's text and blocks, led by the DRILL mark in a drill."""
    shown = runbook_blocks(runbook, incident_id=incident.id)  # with its action buttons
    if incident.drill:
        mark = {"type": "context", "elements": [{"type": "mrkdwn", "text": messages.DRILL_MARK}]}
        shown = [mark, *shown]
    return {"text": messages.drill_marked(incident, runbook_text(runbook)), "blocks": shown}
