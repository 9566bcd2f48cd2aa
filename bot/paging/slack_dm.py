"""The Slack backend: a page is a DM from the bot, an announcement a channel post.

Each message carries its outbox key in Slack message metadata, so `find` can look
through the conversation's recent history for a delivery a crashed worker made.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.incident import Incident
from bot.paging import DeliveryError
from bot.slack import messages
from bot.store import OutboxItem

EVENT_TYPE = "tocsin_delivery"


class SlackPager:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._dm_channels: dict[str, str] = {}

    def _conversation(self, item: OutboxItem) -> str:
        if item.kind != "page":
            return item.to
        if item.to not in self._dm_channels:
            opened = self.client.conversations_open(users=item.to)
            self._dm_channels[item.to] = opened["channel"]["id"]
        return self._dm_channels[item.to]

    def deliver(self, item: OutboxItem, incident: Incident) -> str:
        metadata = {
            "event_type": EVENT_TYPE,
            "event_payload": {"incident_id": incident.id, "key": item.key},
        }
        try:
            channel = self._conversation(item)
            kwargs: dict[str, Any] = {"channel": channel, "text": item.text, "metadata": metadata}
            if item.kind == "page":
                kwargs["blocks"] = messages.page_blocks(incident, item)
            try:
                response = self.client.chat_postMessage(**kwargs)
            except SlackApiError as exc:
                if exc.response.get("error") != "not_in_channel":
                    raise
                self.client.conversations_join(channel=channel)
                response = self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            raise DeliveryError(f"slack: {exc.response.get('error')}") from exc
        except OSError as exc:
            raise DeliveryError(f"slack unreachable: {exc}") from exc
        return f"{response['channel']}/{response['ts']}"

    def find(self, item: OutboxItem, incident: Incident, since: float) -> str | None:
        try:
            channel = self._conversation(item)
            history = self.client.conversations_history(
                channel=channel, oldest=f"{since:.6f}", include_all_metadata=True, limit=200
            )
        except SlackApiError as exc:
            raise DeliveryError(f"slack: {exc.response.get('error')}") from exc
        except OSError as exc:
            raise DeliveryError(f"slack unreachable: {exc}") from exc
        messages_: list[dict[str, Any]] = history.get("messages", [])
        for message in messages_:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("incident_id") == incident.id and payload.get("key") == item.key:
                return f"{channel}/{message['ts']}"
        return None
