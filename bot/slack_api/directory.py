"""Who is who: usergroup members, users by email, and the names of people and channels, from
Slack or from a static file. Every output a person reads outside Slack (an uploaded review,
`tocsin export`, `tocsin report`) names people and channels through here."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


class Directory(Protocol):
    def usergroup_members(self, group_id: str) -> list[str]: ...

    def cannot_page(self, user_id: str) -> str | None:
        """Why `user_id` can never be paged (no such user, deactivated, a bot), in words
        that finish "cannot be paged: ..."; None when they can, or when it cannot be told."""
        ...

    def user_by_email(self, email: str) -> str | None: ...

    def groups_of(self, user_id: str) -> frozenset[str]: ...

    def user_name(self, user_id: str) -> str | None:
        """The person's handle (`frank`, shown as @frank), or None when it cannot be told."""
        ...

    def channel_name(self, channel_id: str) -> str | None:
        """The channel's name (`incidents`, shown as #incidents), or None."""
        ...


def user_problem(user: dict[str, Any] | None) -> str | None:
    """Why a user record (Slack's `users.info` shape) cannot be paged, or None."""
    if user is None:
        return "there is no such Slack user"
    if user.get("deleted"):
        return "their Slack account is deactivated"
    if user.get("is_bot") or user.get("is_app_user"):
        return "it is a bot, and bots cannot be paged"
    return None


def handle(user: dict[str, Any] | None) -> str | None:
    """A user record's handle: its `name`, else its display or real name."""
    if not user:
        return None
    profile = user.get("profile") or {}
    for name in (user.get("name"), profile.get("display_name"), user.get("real_name")):
        if name:
            return str(name)
    return None


class StaticDirectory:
    """Users and usergroups from a workspace YAML file (the sandbox's format)."""

    def __init__(
        self,
        groups: dict[str, list[str]],
        emails: dict[str, str],
        users: dict[str, dict[str, Any]] | None = None,
        channels: dict[str, str] | None = None,
    ) -> None:
        self.groups = groups
        self.emails = {k.lower(): v for k, v in emails.items()}
        self.users = users  # id -> the file's entry; None: the file lists no users
        self.channels = channels or {}  # id -> name

    @classmethod
    def from_file(cls, path: Path) -> StaticDirectory:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        groups = {g["id"]: list(g.get("users", [])) for g in data.get("usergroups", [])}
        emails = {u["email"]: u["id"] for u in data.get("users", []) if u.get("email")}
        users = {u["id"]: u for u in data.get("users", [])} or None
        channels = {c["id"]: c["name"] for c in data.get("channels", []) if c.get("name")}
        return cls(groups, emails, users, channels)

    @classmethod
    def empty(cls) -> StaticDirectory:
        return cls({}, {})

    def cannot_page(self, user_id: str) -> str | None:
        if self.users is None:
            return None
        return user_problem(self.users.get(user_id))

    def usergroup_members(self, group_id: str) -> list[str]:
        return list(self.groups.get(group_id, []))

    def user_by_email(self, email: str) -> str | None:
        return self.emails.get(email.lower())

    def groups_of(self, user_id: str) -> frozenset[str]:
        return frozenset(g for g, users in self.groups.items() if user_id in users)

    def user_name(self, user_id: str) -> str | None:
        return handle((self.users or {}).get(user_id))

    def channel_name(self, channel_id: str) -> str | None:
        return self.channels.get(channel_id)


class SlackDirectory:
    """Looks people up through the Web API, caching answers for `ttl_s` seconds."""

    def __init__(self, client: WebClient, ttl_s: float = 60.0) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Any]] = {}

    def _cached(self, key: str, load: Any) -> Any:
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        value = load()
        self._cache[key] = (time.monotonic(), value)
        return value

    def usergroup_members(self, group_id: str) -> list[str]:
        def load() -> list[str]:
            try:
                return list(self.client.usergroups_users_list(usergroup=group_id)["users"])
            except SlackApiError as exc:
                if exc.response.get("error") in ("no_such_subteam", "subteam_not_found"):
                    return []
                raise

        result: list[str] = self._cached(f"group:{group_id}", load)
        return result

    def _user(self, user_id: str) -> dict[str, Any] | None:
        """`users.info`, cached; None for no such user. Raises while Slack is away."""

        def load() -> dict[str, Any] | None:
            try:
                return dict(self.client.users_info(user=user_id)["user"])
            except SlackApiError as exc:
                if exc.response.get("error") in ("user_not_found", "user_not_visible"):
                    return None
                raise

        user: dict[str, Any] | None = self._cached(f"user:{user_id}", load)
        return user

    def cannot_page(self, user_id: str) -> str | None:
        try:
            user = self._user(user_id)
        except (SlackApiError, OSError):  # Slack away: let the page try; delivery will tell
            return None
        return user_problem(user)

    def user_name(self, user_id: str) -> str | None:
        try:
            return handle(self._user(user_id))
        except (SlackApiError, OSError):  # Slack away: the id stands in for the name
            return None

    def channel_name(self, channel_id: str) -> str | None:
        def load() -> str | None:
            try:
                return str(self.client.conversations_info(channel=channel_id)["channel"]["name"])
            except SlackApiError as exc:
                if exc.response.get("error") == "channel_not_found":
                    return None
                raise

        try:
            name: str | None = self._cached(f"channel:{channel_id}", load)
        except (SlackApiError, OSError, KeyError):  # Slack away: the id stands in
            return None
        return name

    def user_by_email(self, email: str) -> str | None:
        def load() -> str | None:
            try:
                return str(self.client.users_lookupByEmail(email=email)["user"]["id"])
            except SlackApiError as exc:
                if exc.response.get("error") == "users_not_found":
                    return None
                raise

        result: str | None = self._cached(f"email:{email.lower()}", load)
        return result

    def groups_of(self, user_id: str) -> frozenset[str]:
        def load() -> dict[str, list[str]]:
            groups = self.client.usergroups_list(include_users=True)["usergroups"]
            return {g["id"]: list(g.get("users", [])) for g in groups}

        groups: dict[str, list[str]] = self._cached("groups", load)
        return frozenset(g for g, users in groups.items() if user_id in users)
