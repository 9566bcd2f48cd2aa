"""`tocsin socket`: the same Bolt app over Socket Mode, for workspaces without a public URL."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config.settings import Settings, SettingsError
from bot.runtime import Runtime
from bot.slack.app import build_app


def run_socket(settings: Settings) -> int:
    if not settings.slack_app_token:
        raise SettingsError(
            "SLACK_APP_TOKEN is not set (an app-level token, xapp-…, with connections:write)"
        )
    rt = Runtime.build(settings, inline_delivery=False)
    if rt.slack is None:
        raise SettingsError("socket mode talks to Slack: unset TOCSIN_PAGER or set it to slack")
    app = build_app(rt, signing_secret=None, client=rt.slack)
    handler = SocketModeHandler(app, app_token=settings.slack_app_token, web_client=rt.slack)
    handler.start()  # type: ignore[no-untyped-call]  # blocks until interrupted
    return 0
