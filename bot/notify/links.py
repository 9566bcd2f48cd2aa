"""Signed one-time acknowledge links, for pages that go out by email.

    https://tocsin.example.com/notify/ack/<token>

The token names the incident, the person paged, the page's outbox key and when the link
expires, signed with TOCSIN_ACK_LINK_SECRET (itsdangerous: HMAC-SHA256 with a salted key,
checked in constant time). Whoever holds the link may acknowledge that page as that person, so:

- it says nothing secret itself (ids and a key; the incident's title is not in it);
- it expires (`expires_at`, POSIX seconds), a forged or altered one never checks;
- it is used once: the first POST marks it used in Redis (`SET NX` expiring with the link),
  every later one is told "already used". Opening it (GET) spends nothing: mail scanners
  follow links, so only the confirm page's POST acknowledges (bot.inbound.email_link).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from itsdangerous import BadSignature, URLSafeSerializer

from bot import clock
from bot.config.settings import Settings
from bot.notify import Notice
from bot.state import keys
from bot.state.markers import Markers

SALT = "tocsin.notify.ack-link.v1"  # keys these tokens apart from anything else the secret signs
PATH = "/notify/ack/"
LINK_TTL_S = 24 * 3600  # how long an email page's link works: a page older than this is stale


class LinkProblem(Enum):
    """Why a link acknowledges nothing."""

    FORGED = "forged"  # the signature does not check, or the token is not one of ours
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class AckLink:
    """What a checked token names."""

    incident_id: str
    user: str
    key: str  # the outbox key of the page the link came with
    expires_at: int  # POSIX seconds


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def ack_token(secret: str, incident_id: str, user: str, key: str, expires_at: float) -> str:
    """The signed token of one page's acknowledge link."""
    payload = {"i": incident_id, "u": user, "k": key, "e": int(expires_at)}
    token = _serializer(secret).dumps(payload)
    return token if isinstance(token, str) else token.decode()


def ack_link(
    base_url: str, secret: str, incident_id: str, user: str, key: str, expires_at: float
) -> str:
    """The address a person opens to acknowledge the page `key` of `incident_id` as `user`;
    `base_url` is where `tocsin web` is reached (TOCSIN_PUBLIC_URL)."""
    token = ack_token(secret, incident_id, user, key, expires_at)
    return f"{base_url.rstrip('/')}{PATH}{token}"


def with_ack_link(
    notice: Notice, base_url: str | None, secret: str | None, now: float, ttl_s: float = LINK_TTL_S
) -> Notice:
    """`notice` with its acknowledge link, for the person it pages; unchanged when it pages a
    service (no user) or links are not set up (no TOCSIN_PUBLIC_URL or secret)."""
    if notice.user is None or not base_url or not secret:
        return notice
    url = ack_link(base_url, secret, notice.incident_id, notice.user, notice.key, now + ttl_s)
    return replace(notice, ack_url=url)


def email_links(settings: Settings) -> Callable[[Notice, str], Notice]:
    """The pager's hook (`NotifyPager(ack_link=...)`): a notice going out by email gets its
    acknowledge link, valid from now; others go as they are."""

    def link(notice: Notice, method: str) -> Notice:
        if method != "email":
            return notice
        return with_ack_link(notice, settings.public_url, settings.ack_link_secret, clock.now_ts())

    return link


def read_token(secret: str, token: str, now: float) -> AckLink:
    """What `token` names; LinkRefused(FORGED or EXPIRED) when it acknowledges nothing."""
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature:
        raise LinkRefused(LinkProblem.FORGED) from None
    fields = ("i", "u", "k", "e")
    if not isinstance(payload, dict) or any(f not in payload for f in fields):
        raise LinkRefused(LinkProblem.FORGED)
    expires_at = payload["e"]
    strings = all(isinstance(payload[f], str) and payload[f] for f in fields[:3])
    if not strings or not isinstance(expires_at, int):
        raise LinkRefused(LinkProblem.FORGED)
    if now >= expires_at:
        raise LinkRefused(LinkProblem.EXPIRED)
    return AckLink(payload["i"], payload["u"], payload["k"], expires_at)


def used_key(token: str) -> str:
    """The Redis key that marks `token` used (by its digest: the token is a credential)."""
    return keys.ack_link_used(hashlib.sha256(token.encode()).hexdigest())


class AckLinks:
    """Checks links and spends them, once each, with a marker in Redis."""

    def __init__(self, markers: Markers, secret: str | None) -> None:
        self.markers, self.secret = markers, secret

    def check(self, token: str, now: float) -> AckLink:
        """What an unspent, unexpired, genuine `token` names (a GET: nothing is spent);
        LinkRefused otherwise. With no secret set, every token is forged."""
        if not self.secret:
            raise LinkRefused(LinkProblem.FORGED)
        link = read_token(self.secret, token, now)
        if self.markers.get(used_key(token)) is not None:
            raise LinkRefused(LinkProblem.USED)
        return link

    def spend(self, token: str, now: float) -> AckLink:
        """Check `token` and mark it used, atomically (SET NX): of two POSTs one wins and the
        other is refused USED. The mark lasts until the link would have expired anyway."""
        if not self.secret:
            raise LinkRefused(LinkProblem.FORGED)
        link = read_token(self.secret, token, now)
        ttl_s = max(1, math.ceil(link.expires_at - now))
        if not self.markers.first(used_key(token), ttl_s, int(now)):
            raise LinkRefused(LinkProblem.USED)
        return link

    def unspend(self, token: str) -> None:
        """Forget that `token` was used: its acknowledgement failed before anything changed
        (Redis went away mid-command), so the person may press again."""
        self.markers.forget(used_key(token))
