"""The methods this process can page by, built from the settings: `Methods`, keyed by name.

To add a method: write a class with `name`, `send` and `find` (`bot.notify.Method`) in a
module of this folder, and a function `build(settings, env) -> Method | None` (`env`: the
process's environment, for variables Settings does not hold; None when the method's
settings are unset, so it is simply not offered), then add it to `builders`. Rules naming
a method that is not built are left out of every page (`bot.incident.escalation`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from bot.config.settings import Settings
from bot.domain.notify import SLACK
from bot.notify import Method
from bot.notify.apprise import AppriseMethod
from bot.notify.email import build as email
from bot.notify.pagerduty import build as pagerduty
from bot.notify.twilio import TwilioSms, TwilioVoice
from bot.notify.twilio.voice import KnownCalls
from bot.notify.webhook import build as webhook

Builder = Callable[[Settings, Mapping[str, str]], Method | None]


def sms(settings: Settings, env: Mapping[str, str]) -> Method | None:
    """Twilio SMS, when TOCSIN_TWILIO_* name an account."""
    return TwilioSms.from_env(env)


def apprise(settings: Settings, env: Mapping[str, str]) -> Method | None:
    """Apprise needs no settings: each rule carries its service's URL."""
    return AppriseMethod()


def builders(calls: KnownCalls | None = None) -> tuple[Builder, ...]:
    """Each method's builder, voice's recording the calls it makes in `calls`; the Slack DM
    is not among them (the SlackPager sends it)."""

    def voice(settings: Settings, env: Mapping[str, str]) -> Method | None:
        """Twilio calls, when TOCSIN_TWILIO_* name an account (and TOCSIN_PUBLIC_URL is
        set)."""
        return TwilioVoice.from_env(env, calls)

    return (email, sms, voice, apprise, pagerduty, webhook)


class Methods:
    """The methods off Slack by name (`sms`, `email`, ...)."""

    def __init__(self, methods: Iterable[Method] = ()) -> None:
        self._by_name = {m.name: m for m in methods}

    def get(self, name: str) -> Method | None:
        return self._by_name.get(name)

    @property
    def names(self) -> frozenset[str]:
        """Every method a page can go out by, Slack included."""
        return frozenset({SLACK, *self._by_name})


def build_methods(
    settings: Settings, env: Mapping[str, str], using: Iterable[Builder] | None = None
) -> Methods:
    """The methods whose settings are set (built by `using`, by default `builders()`)."""
    chosen = builders() if using is None else using
    return Methods(m for build in chosen if (m := build(settings, env)) is not None)
