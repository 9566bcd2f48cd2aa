"""The Slack backend: a page is a DM from the bot, an announcement a channel post.

Each message carries its outbox key in Slack message metadata, so `find` can look
through the conversation's recent history for a delivery a crashed worker made.
A paged person is also invited into the incident channel.
"""

from __future__ import annotations

from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.incident import Incident
from bot.domain.outbox import OutboxKind
from bot.paging import Deferred, DeliveryError
from bot.paging.slack_errors import classify, unreachable
from bot.render import blocks
from bot.slack_api.history import find_posted, tag
from bot.state.store import OutboxItem

log = structlog.get_logger(__name__)
EVENT_TYPE = "tocsin_delivery"


NOT_YET_S = 2.0  # an item for a channel still being opened is tried again after this


class SlackPager:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._dm_channels: dict[str, str] = {}

    def _where(self, item: OutboxItem, incident: Incident) -> tuple[str, str | None]:
        """The conversation and thread an item goes to; Deferred while the incident's channel
        or header does not exist yet (opening the channel drains what waited for it)."""
        if item.kind is OutboxKind.PAGE:
            if item.to not in self._dm_channels:
                opened = self.client.conversations_open(users=item.to)
                self._dm_channels[item.to] = opened["channel"]["id"]
            return self._dm_channels[item.to], None
        channel = incident.channel_id if item.to == "@incident" else item.to
        if not channel:
            raise Deferred(NOT_YET_S)
        thread = None
        if item.thread == "@header":
            if not incident.header_ts:
                raise Deferred(NOT_YET_S)
            thread = incident.header_ts
        return channel, thread

    def deliver(self, item: OutboxItem, incident: Incident) -> str:
        metadata = tag(EVENT_TYPE, (incident.id, item.key))
        try:
            channel, thread = self._where(item, incident)
            kwargs: dict[str, Any] = {"channel": channel, "text": item.text, "metadata": metadata}
            if thread:
                kwargs |= {"thread_ts": thread, "reply_broadcast": item.broadcast}
            if item.blocks:
                kwargs["blocks"] = item.blocks
            elif item.kind is OutboxKind.PAGE:
                kwargs["blocks"] = blocks.page_blocks(incident, item.text)
            try:
                response = self.client.chat_postMessage(**kwargs)
            except SlackApiError as exc:
                if exc.response.get("error") != "not_in_channel":
                    raise
                self.client.conversations_join(channel=channel)
                response = self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            raise classify(exc) from exc
        except OSError as exc:
            raise unreachable(exc) from exc
        if item.kind is OutboxKind.PAGE and incident.channel_id:
            self._invite(incident.channel_id, item.to)
        return f"{response['channel']}/{response['ts']}"

    def _invite(self, channel: str, user: str) -> None:
        """Best effort: the page has landed, and a failed invite must not make it a failure
        (the paged person can still join from the page's channel link)."""
        try:
            self.client.conversations_invite(channel=channel, users=user)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in ("already_in_channel", "cant_invite_self"):
                log.warning("invite_failed", channel=channel, user_id=user, error=error)
        except OSError as exc:
            log.warning("invite_failed", channel=channel, user_id=user, error=str(exc))

    def revise(self, page: OutboxItem, incident: Incident) -> None:
        """chat.update the page DM at `page.ref` (`<channel>/<ts>`) from the incident now."""
        channel, _, ts = str(page.ref).partition("/")
        try:
            self.client.chat_update(
                channel=channel,
                ts=ts,
                text=page.text,
                blocks=blocks.page_blocks(incident, page.text),
            )
        except SlackApiError as exc:
            raise classify(exc) from exc
        except OSError as exc:
            raise unreachable(exc) from exc

    def ready_in(self, item: OutboxItem, incident: Incident) -> float:
        """How long the shared pacer would hold this post (pages are never deferred)."""
        pacer = getattr(self.client, "pacer", None)
        if item.kind is OutboxKind.PAGE or pacer is None:
            return 0.0
        try:
            channel, _thread = self._where(item, incident)
        except DeliveryError:
            return 0.0  # deliver() says why
        method = "chat.postMessage"
        return float(pacer.busy_for(method, pacer.key(method, {"channel": channel})))

    def find(self, item: OutboxItem, incident: Incident, since: float) -> str | None:
        try:
            channel, thread = self._where(item, incident)
            tagged = (incident.id, item.key)
            ts = find_posted(self.client, channel, since, tagged, thread=thread, limit=200)
        except SlackApiError as exc:
            failure = classify(exc)
            if isinstance(failure, DeliveryError):
                raise failure from exc
            return None  # the conversation cannot be read: nothing landed there to find
        except OSError as exc:
            raise unreachable(exc) from exc
        return None if ts is None else f"{channel}/{ts}"
