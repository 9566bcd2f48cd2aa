"""Who is who: usergroup members and users by email, from Slack or from a static file."""

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


def user_problem(user: dict[str, Any] | None) -> str | None:
    """Why a user record (Slack's `users.info` shape) cannot be paged, or None."""
    if user is None:
        return "there is no such Slack user"
    if user.get("deleted"):
        return "their Slack account is deactivated"
    if user.get("is_bot") or user.get("is_app_user"):
        return "it is a bot, and bots cannot be paged"
    return None


class StaticDirectory:
    """Users and usergroups from a workspace YAML file (the sandbox's format)."""

    def __init__(
        self,
        groups: dict[str, list[str]],
        emails: dict[str, str],
        users: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.groups = groups
        self.emails = {k.lower(): v for k, v in emails.items()}
        self.users = users  # id -> the file's entry; None: the file lists no users

    @classmethod
    def from_file(cls, path: Path) -> StaticDirectory:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        groups = {g["id"]: list(g.get("users", [])) for g in data.get("usergroups", [])}
        emails = {u["email"]: u["id"] for u in data.get("users", []) if u.get("email")}
        users = {u["id"]: u for u in data.get("users", [])} or None
        return cls(groups, emails, users)

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

    def cannot_page(self, user_id: str) -> str | None:
        def load() -> dict[str, Any] | None:
            try:
                return dict(self.client.users_info(user=user_id)["user"])
            except SlackApiError as exc:
                if exc.response.get("error") in ("user_not_found", "user_not_visible"):
                    return None
                raise

        try:
            user: dict[str, Any] | None = self._cached(f"user:{user_id}", load)
        except (SlackApiError, OSError):  # Slack away: let the page try; delivery will tell
            return None
        return user_problem(user)

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
