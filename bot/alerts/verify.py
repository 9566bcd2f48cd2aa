"""A sender proves who it is: a bearer token, or Grafana's HMAC-SHA256 of the body.

Grafana signs `body`, or `timestamp + ":" + body` when a timestamp header is configured,
and sends the hex digest in the signature header (Grafana docs, "Configure webhook
notifications", section "HMAC signature"). Comparisons are constant-time; a source whose
secret variable is unset refuses everyone rather than accepting anyone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from bot.domain.alerts.sources import AlertSource

MAX_SKEW_S = 300  # a signed timestamp older or newer than this is a replay


def _header(environ: Mapping[str, object], name: str) -> str:
    return str(environ.get("HTTP_" + name.upper().replace("-", "_"), ""))


def verified(
    source: AlertSource,
    environ: Mapping[str, object],
    body: bytes,
    env: Mapping[str, str],
    now: float,
) -> bool:
    """True when the request carries every credential the source asks for."""
    if source.token_env is None and source.hmac_secret_env is None:
        return False
    if source.token_env is not None:
        token = env.get(source.token_env, "")
        given = str(environ.get("HTTP_AUTHORIZATION", ""))
        if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return False
    if source.hmac_secret_env is not None:
        secret = env.get(source.hmac_secret_env, "")
        if not secret:
            return False
        signed = body
        if source.timestamp_header:
            stamp = _header(environ, source.timestamp_header)
            if not stamp.isdigit() or abs(now - int(stamp)) > MAX_SKEW_S:
                return False
            signed = stamp.encode() + b":" + body
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        given_sig = _header(environ, source.signature_header).strip().lower()
        if not hmac.compare_digest(given_sig.encode(), expected.encode()):
            return False
    return True
