"""Who a policy target names at a given time: a schedule's on-call, a usergroup's members,
the person an email belongs to, a user id as it stands, or an outside service as itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.domain.catalog import Catalog
from bot.domain.policy import Target, TargetKind
from bot.domain.schedule import on_call
from bot.slack_api.directory import Directory


def lookup(
    catalog: Callable[[], Catalog], directory: Directory, target: Target, at: datetime
) -> Sequence[str]:
    """The user ids `target` names at `at` (none for an unknown schedule or email). A
    schedule's people written as emails (imported, or from a calendar feed) are looked up.
    A service (`pagerduty:ops`, `webhook:audit`) is its own recipient: the step's page to it
    goes out by its method (`Escalation.page_items`)."""
    if target.is_service:
        return (str(target),)
    if target.kind is TargetKind.SCHEDULE:
        schedule = catalog().schedules.get(target.ref)
        people = on_call(schedule, at) if schedule else ()
        found = (directory.user_by_email(p) if "@" in p else p for p in people)
        return tuple(dict.fromkeys(user for user in found if user))
    if target.kind is TargetKind.USERGROUP:
        return directory.usergroup_members(target.ref)
    if target.is_email:
        user = directory.user_by_email(target.ref)
        return (user,) if user else ()
    return (target.ref,)
