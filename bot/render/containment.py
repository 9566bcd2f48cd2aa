"""What people read about containment actions: the ask-again answer and the outcome."""

from __future__ import annotations

from bot.domain.containment import EXCERPT
from bot.render.messages import escape, who
from bot.render.runbook import clip


def ask_again(label: str, seconds: int) -> str:
    """The presser's answer when the action ran moments ago."""
    return f":hourglass: *{escape(label)}* ran {seconds} s ago; press it again to run it again."


def requested(label: str, user: str, *, automatic: bool) -> str:
    """The timeline's record of a run being asked for."""
    how = "by an alert route, as " if automatic else "by "
    return f"containment action {label} run {how}{who(user)}"


def announce_automatic(label: str, severity: str) -> str:
    """What the channel is told before an alert runs an action by itself."""
    return (
        f":robot_face: Running containment action *{escape(label)}* automatically "
        f"(its runbook runs it on {escape(severity)} alerts)."
    )


def outcome(label: str, status: int | None, excerpt: str, attempts: int, ok: bool) -> str:
    """The outcome in the runbook's thread: status, attempts and the answer's start, escaped."""
    mark = ":white_check_mark:" if ok else ":x:"
    answer = f"HTTP {status}" if status is not None else "no answer"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    shown = clip(" ".join(excerpt.split()), EXCERPT)
    said = f"{mark} *{escape(label)}*: {answer}{tries}"
    quoted = escape(shown).replace("`", "'")
    return f"{said}: `{quoted}`" if shown else said


def interrupted(label: str) -> str:
    """An earlier attempt stopped after sending began: the action is not sent again."""
    return (
        f":warning: *{escape(label)}*: an earlier attempt was interrupted after it began "
        "sending, so it was not sent again; check the receiver, and press again if needed."
    )


def not_configured(label: str, missing: str) -> str:
    return f":x: *{escape(label)}* is not configured here: `{escape(missing)}` is not set."
