"""The page methods off Slack configured on this installation: their credentials checked
where the provider has a way to check them that sends nothing, and present otherwise.

- Twilio (TOCSIN_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM): a read of one entry of the
  account's Messages list, which Twilio answers only for a valid SID and auth token.
- PagerDuty Events v2 (`services.yaml`): a routing key can be checked only by sending an
  event (which could page), so the check is that its variable is set and the events host
  answers.
- Signed webhooks (`services.yaml`): the secret's variable set, the URL's host reachable.

Apprise and email take their addresses from people's notification rules: nothing to check
here. No line shows a secret, or a URL's path and query.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.cli.doctor.checkup import Checkup, Line, fail, ok
from bot.cli.doctor.pagers import reach, where
from bot.config.outside import load_services
from bot.config.settings import SettingsError
from bot.notify.pagerduty import DEFAULT_EVENTS_URL, EVENTS_URL_ENV
from bot.notify.twilio.account import TwilioAccount
from bot.redaction import redact_text


def check_twilio(c: Checkup) -> Iterator[Line]:
    try:
        account = TwilioAccount.from_env(c.env)
    except SettingsError as exc:
        yield fail("twilio", str(exc), "fix the TOCSIN_TWILIO_* variables (README, Twilio)")
        return
    if account is None:
        return
    try:
        account.client().api.v2010.accounts(account.sid).messages.list(limit=1)
    except Exception as exc:  # TwilioRestException (401: bad credentials) or the network
        status = getattr(exc, "status", None)
        why = f"HTTP {status}" if status else redact_text(f"{type(exc).__name__}: {exc}")
        yield fail(
            "twilio",
            f"Twilio refused account {account.sid}: {why}",
            "copy the Account SID and Auth Token from the Twilio console into "
            "TOCSIN_TWILIO_ACCOUNT_SID and TOCSIN_TWILIO_AUTH_TOKEN",
        )
        return
    yield ok("twilio", f"account {account.sid} accepted its auth token (nothing sent)")


def check_outside_services(c: Checkup) -> Iterator[Line]:
    services = load_services(c.settings.config_in_use)
    events = c.env.get(EVENTS_URL_ENV) or DEFAULT_EVENTS_URL
    for name, service in sorted(services.pagerduty.items()):
        label = f"pagerduty {name}"
        if not c.env.get(service.routing_key_env, "").strip():
            yield fail(
                label,
                f"{service.routing_key_env} is not set",
                f"set it to the service's Events API v2 Integration Key ({name} in services.yaml)",
            )
        elif (why := reach(events)) is not None:
            yield fail(label, f"{where(events)}: {why}", f"check the network (or {EVENTS_URL_ENV})")
        else:
            yield ok(
                label,
                f"{service.routing_key_env} set, {where(events)} reachable (a routing key is "
                "checked only by sending an event: not sent)",
            )
    for name, hook in sorted(services.webhooks.items()):
        label = f"webhook {name}"
        if not c.env.get(hook.secret_env, "").strip():
            yield fail(label, f"{hook.secret_env} is not set", "set the signing secret it names")
        elif (why := reach(hook.url)) is not None:
            yield fail(label, f"{where(hook.url)}: {why}", "check its url in services.yaml")
        else:
            yield ok(label, f"{hook.secret_env} set, {where(hook.url)} reachable (none sent)")
