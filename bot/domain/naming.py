"""Incident channel names within Slack's rules: lowercase [a-z0-9_-], at most 80 characters."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80
PRIVATE = "private"  # a private incident's channel says so instead of naming its title
DRILL = "drill"  # a drill's channel starts so instead of `inc`, so nobody takes it for real


def slugify(text: str) -> str:
    """`Checkout 500s — EU!` -> `checkout-500s-eu`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def channel_name(
    incident_id: str, title: str, attempt: int = 0, *, private: bool = False, drill: bool = False
) -> str:
    """`inc-<yyyymmdd>-<n>-<slug>` (`drill-…` for a drill), with `-<attempt+1>` when an
    earlier name was taken.

    A private incident's channel is `inc-<yyyymmdd>-<n>-private`: a channel's name is
    logged at creation and shown to workspace admins, so it carries no slug of the title.
    """
    prefix = f"{DRILL if drill else 'inc'}-{incident_id}"
    suffix = f"-{attempt + 1}" if attempt else ""
    room = MAX_NAME - len(prefix) - len(suffix) - 1
    slug = slugify(PRIVATE if private else title)[:room].rstrip("-") if room > 0 else ""
    return f"{prefix}-{slug}{suffix}" if slug else f"{prefix}{suffix}"
