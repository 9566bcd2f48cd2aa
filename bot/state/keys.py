"""Names of Redis keys shared by several state modules, and of the markers and leases that
no store owns (the rest live with their store)."""

from __future__ import annotations

PREFIX = "tocsin"
SCHEDULER_LEASE = f"{PREFIX}:lease:scheduler"  # held by the worker that dispatches due steps
RECONCILE_LEASE = f"{PREFIX}:lease:reconcile"  # held by the worker running the reconciler
CLOSED_INDEXED = f"{PREFIX}:closed:indexed"  # set once old resolved incidents are indexed
DRILLS = f"{PREFIX}:drills"  # ids of drill incidents: their timelines count in no /metrics figure


def incident(incident_id: str) -> str:
    return f"{PREFIX}:inc:{incident_id}"


def channel_link(channel_id: str) -> str:
    """The incident id of a channel the bot opened."""
    return f"{PREFIX}:chan:{channel_id}"


def seen(key: str) -> str:
    """Marks a Slack request (or a click) as handled: Slack may deliver twice."""
    return f"{PREFIX}:idem:{key}"


def claim(incident_id: str, key: str) -> str:
    """The right to deliver one outbox item, held by one worker for a lease."""
    return f"{PREFIX}:claim:{incident_id}:{key}"


def ack_link_used(digest: str) -> str:
    """Marks an email page's acknowledge link used (bot.notify.links), by its token's digest."""
    return f"{PREFIX}:acklink:used:{digest}"


def slack_gap(incident_id: str) -> str:
    """Set while Slack refuses this incident's deliveries: when it started."""
    return f"{incident(incident_id)}:slack_gap"


# The incident channel's markers (bot.incident.channel): when a header post was attempted,
# the runbook bookmark (its message ts), the topic last set.
CHANNEL_MARKERS = ("header_attempt", "runbook", "topic")


def channel_marker(incident_id: str, marker: str) -> str:
    return f"{incident(incident_id)}:{marker}"


def channel_opening(incident_id: str) -> str:
    """The lease a worker holds (renewed) while it opens the incident's channel."""
    return channel_marker(incident_id, "opening")


def review_posted(incident_id: str, token: int) -> str:
    """Set once review `token`'s draft is uploaded (bot.learning.review)."""
    return f"{incident(incident_id)}:review:posted:{token}"


def review_draft(incident_id: str) -> str:
    """The Slack file id of the review draft now in the incident channel (one per incident:
    a later round replaces it)."""
    return f"{incident(incident_id)}:review:draft"


def action_reminded(ref: str) -> str:
    """Set once the owner of action item `ref` is reminded (bot.learning.actions)."""
    return f"{PREFIX}:actions:reminded:{ref}"


def containment_last(incident_id: str, action_id: str) -> str:
    """Set while a containment action's repeat window runs: when it last ran."""
    return f"{incident(incident_id)}:contain:{action_id}:last"


def containment_again(incident_id: str, action_id: str, user: str) -> str:
    """Set when `user` was asked to press a recently run action again to run it again."""
    return f"{incident(incident_id)}:contain:{action_id}:again:{user}"


def containment_send(run_id: str) -> str:
    """A containment run's send: "sending" from before the POST, then "done"."""
    return f"{PREFIX}:contain:run:{run_id}"


def containment_auto(incident_id: str, action_id: str) -> str:
    """Set once an alert route ran the action by itself on the incident (it runs once)."""
    return f"{incident(incident_id)}:contain:{action_id}:auto"


def replies(method: str, address: str) -> str:
    """The pages lately sent by `method` to `address`, newest first (bot.state.replies)."""
    return f"{PREFIX}:replies:{method}:{address.strip().lower()}"


def calls(number: str) -> str:
    """The SIDs of the calls Tocsin knows it made to `number` (bot.state.calls)."""
    return f"{PREFIX}:calls:{number.strip()}"


def own_rules(user: str) -> str:
    """A person's own notification rules, set from the App Home (bot.state.own_rules)."""
    return f"{PREFIX}:people:{user}:rules"


def own_rules_audit(user: str) -> str:
    """Each change of a person's own rules, newest first (bot.state.own_rules)."""
    return f"{PREFIX}:people:{user}:audit"
