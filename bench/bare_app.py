"""The baseline of the acknowledgement benchmark: a Bolt app that only calls `ack()`.

It is built with the same `App` settings as Tocsin's (`bot/slack/app.py`: signature
verification on, token verification off) and served by the same gunicorn gthread server
class as `tocsin web` (`bot.web.Server`: same options, workers and threads), so the only
difference between the two targets is what Tocsin does before and after `ack()`.

By default it keeps Bolt's default listener runner (`process_before_response=False`, as most
Bolt apps run: the listener runs in a thread and the request thread polls for `ack()` every
10 ms). `--inline` sets `process_before_response=True`, as Tocsin does: the floor that no
app served this way can beat.

    python -m bench.bare_app --bind 127.0.0.1:3001 --workers 2 --threads 8 [--inline]
    (reads SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SLACK_API_URL, as `tocsin web` does)
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.config.settings import Settings
from bot.web import Server

StartResponse = Callable[..., Any]


def build_bare_app(signing_secret: str, client: WebClient, inline: bool = False) -> App:
    """Tocsin's App settings; `client` is only used for Bolt's one lazy auth.test, as Tocsin's."""
    app = App(
        process_before_response=inline,
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        request_verification_enabled=True,
        raise_error_for_unhandled_request=True,
        ignoring_self_events_enabled=True,
    )

    @app.command(re.compile(".*"))
    def on_command(ack: Ack) -> None:
        ack()

    @app.action(re.compile(".*"))
    def on_action(ack: Ack) -> None:
        ack()

    return app


class BareWsgi:
    """The same routing shape as `bot.web.WebApp`: /slack/events to Bolt, /readyz answered,
    and /alerts/<source> (the alerts-in baseline) reads and parses the JSON body, then 202."""

    def __init__(self, signing_secret: str, client: WebClient, inline: bool) -> None:
        self.slack = SlackRequestHandler(build_bare_app(signing_secret, client, inline))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/slack/events":
            return self.slack(environ, start_response)
        if str(environ.get("PATH_INFO", "")).startswith("/alerts/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            json.loads(environ["wsgi.input"].read(length) or b"{}")
            accepted = b'{"ok": true}'
            start_response(
                "202 Accepted",
                [("Content-Type", "application/json"), ("Content-Length", str(len(accepted)))],
            )
            return [accepted]
        body = b'{"ok": true}'
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


class BareServer(Server):
    """`tocsin web`'s gunicorn application with the bare app loaded instead of Tocsin."""

    inline = False

    def load(self) -> BareWsgi:  # type: ignore[override]  # another WSGI app, same server
        secret = self.settings.slack_signing_secret
        assert secret
        base = (self.settings.slack_api_url or "https://slack.com/api/").rstrip("/") + "/"
        client = WebClient(token=self.settings.slack_bot_token, base_url=base, timeout=10)
        # a plain WebClient at the emulator, as for Tocsin
        return BareWsgi(secret, client, self.inline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--inline", action="store_true", help="process_before_response=True")
    args = parser.parse_args()
    settings = Settings.from_env()
    server = BareServer(settings, args.bind, args.workers, args.threads)
    server.inline = args.inline
    server.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
