"""Who may see a private incident's title and details: its members, and nobody else.

A member is somebody the incident's record names (the declarer, the role holders, everyone
paged, whoever acknowledged or resolved it) or somebody Slack lists in its channel (people
a member invited by hand). Pure: the caller asks Slack for the latter.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.domain.incident import Incident


def recorded_members(incident: Incident) -> set[str]:
    """The people the incident's record names as taking part."""
    acted = {u for u in (incident.acknowledged_by, incident.resolved_by) if u}
    return incident.responders() | acted


def visible_to(incident: Incident, user: str, channel_members: Collection[str] = ()) -> bool:
    """Whether `user` may see the incident's title and details: any incident that is not
    private; a private one only by its recorded members and `channel_members`."""
    return not incident.private or user in recorded_members(incident) or user in channel_members
