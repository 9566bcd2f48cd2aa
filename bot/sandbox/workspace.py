"""The sandbox workspace fixture: users, usergroups and channels that exist before any call.

Loaded once from YAML into frozen, validated models; a bad file fails with the key at fault.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_WORKSPACE = Path(__file__).with_name("workspace.yaml")


class WorkspaceError(ValueError):
    """The workspace file is unreadable or invalid; the message names the file and key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TeamSpec(_Frozen):
    id: str = Field(pattern=r"^T[A-Z0-9]+$")
    name: str
    domain: str


class BotSpec(_Frozen):
    user_id: str = Field(pattern=r"^U[A-Z0-9]+$")
    bot_id: str = Field(pattern=r"^B[A-Z0-9]+$")
    app_id: str = Field(pattern=r"^A[A-Z0-9]+$")
    name: str
    real_name: str


class UserSpec(_Frozen):
    id: str = Field(pattern=r"^[UW][A-Z0-9]+$")
    name: str
    real_name: str
    email: str = ""
    tz: str = "UTC"
    title: str = ""
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False


class UsergroupSpec(_Frozen):
    id: str = Field(pattern=r"^S[A-Z0-9]+$")
    handle: str
    name: str
    description: str = ""
    users: tuple[str, ...] = ()


class ChannelSpec(_Frozen):
    id: str = Field(pattern=r"^[CG][A-Z0-9]+$")
    name: str = Field(pattern=r"^[a-z0-9_-]{1,80}$")
    is_private: bool = False
    is_general: bool = False
    topic: str = ""
    purpose: str = ""
    members: tuple[str, ...] = ()


class WorkspaceSpec(_Frozen):
    team: TeamSpec
    bot: BotSpec
    users: tuple[UserSpec, ...]
    usergroups: tuple[UsergroupSpec, ...] = ()
    channels: tuple[ChannelSpec, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> WorkspaceSpec:
        known = {u.id for u in self.users} | {self.bot.user_id}
        for group in self.usergroups:
            for uid in group.users:
                if uid not in known:
                    raise ValueError(f"usergroup {group.handle}: unknown user {uid}")
        for channel in self.channels:
            for uid in channel.members:
                if uid not in known:
                    raise ValueError(f"channel {channel.name}: unknown member {uid}")
        return self


def load_workspace(path: Path | None = None) -> WorkspaceSpec:
    """Read and validate a workspace file (the bundled one when `path` is None)."""
    source = path or DEFAULT_WORKSPACE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        return WorkspaceSpec.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise WorkspaceError(f"{source}: cannot read workspace: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise WorkspaceError(f"{source}: {problems}") from exc
