"""The small HTML pages of an acknowledge link: plain, self-contained, every value escaped."""

from __future__ import annotations

import html
import re

_MENTION = re.compile(r"<@([A-Z0-9]+)>")

# The answer is never cached, never framed (a framed button could be clicked by trickery),
# never leaks its address (the token) in a Referer, and runs no script.
HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ),
]
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em}"
    "button{font-size:1.1em;padding:.5em 1.5em;cursor:pointer}.muted{color:#666}"
)


def plain(mrkdwn: str) -> str:
    """A command's answer (Slack mrkdwn) as plain text: mentions as @id, entities undone."""
    return html.unescape(_MENTION.sub(r"@\1", mrkdwn))


def page(title: str, *paragraphs: str, form_action: str | None = None, button: str = "") -> bytes:
    """A page of plain-text `paragraphs` (escaped here), with a POST form when `form_action`."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if form_action is not None:
        body += (
            f'<form method="post" action="{html.escape(form_action, quote=True)}">'
            f'<button type="submit">{html.escape(button)}</button></form>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)} · Tocsin</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()
