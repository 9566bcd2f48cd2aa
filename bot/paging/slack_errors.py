"""Slack's answers sorted into "this item can never go" and "try again later".

A permanent failure (an unknown or deactivated user, an archived channel, a message too
long) fails its own outbox item only. A transient one (429, 5xx, a dropped connection) is
retried with backoff. Slack names its errors in the response's `error` field; the lists
below are from the Web API's per-method documentation (chat.postMessage, chat.update,
conversations.open, conversations.invite).
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.paging import DeliveryError, Undeliverable
from bot.slack_api.pacing import retry_after

# The item can never be delivered as it is; the words finish "could not page @x: ...".
PERMANENT: dict[str, str] = {
    "user_not_found": "there is no such Slack user",
    "users_not_found": "there is no such Slack user",
    "user_not_visible": "the bot cannot see that Slack user",
    "user_disabled": "their Slack account is deactivated",
    "account_inactive_user": "their Slack account is deactivated",
    "cannot_dm_bot": "it is a bot, and bots cannot be paged",
    "messages_tab_disabled": "they have turned off direct messages",
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "is_archived": "the channel is archived",
    "not_in_channel": "the bot is not in the channel (invite it with /invite @tocsin)",
    "restricted_action": "the workspace does not let the bot post there",
    "restricted_action_read_only_channel": "the channel is read-only",
    "restricted_action_thread_only_channel": "the channel takes thread replies only",
    "method_not_supported_for_channel_type": "that kind of conversation cannot take it",
    "msg_too_long": "the message is too long for Slack",
    "no_text": "the message is empty",
    "invalid_blocks": "Slack rejected the message's layout",
    "invalid_blocks_format": "Slack rejected the message's layout",
    "invalid_metadata_format": "Slack rejected the message's metadata",
    "metadata_too_large": "Slack rejected the message's metadata",
    "too_many_attachments": "the message has too many attachments",
    # chat.update, when a page DM is brought up to date
    "message_not_found": "the message is gone",
    "cant_update_message": "the bot cannot edit that message",
    "edit_window_closed": "the message can no longer be edited",
}
# Failures of the bot as a whole, not of one item: the items after it would fail too.
WIDE = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "team_access_not_granted",
        "ekm_access_denied",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
    }
)


def classify(exc: SlackApiError) -> DeliveryError | Undeliverable:
    """The exception a delivery raises for Slack's refusal `exc`."""
    response = exc.response
    code = str(response.get("error") or "")
    status = int(getattr(response, "status_code", 200) or 200)
    if code in PERMANENT:
        return Undeliverable(code, PERMANENT[code])
    if status == 429 or code == "ratelimited":
        wait = retry_after(getattr(response, "headers", None))
        return DeliveryError(f"slack: {code or 'ratelimited'}", retry_after=wait)
    wide = status >= 500 or code in WIDE
    return DeliveryError(f"slack: {code or f'HTTP {status}'}", wide=wide)


def unreachable(exc: OSError) -> DeliveryError:
    """Slack could not be reached at all (a timeout, a reset): nothing else would go either."""
    return DeliveryError(f"slack unreachable: {exc}", wide=True)
