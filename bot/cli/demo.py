"""`tocsin demo`: a scripted incident, played for real on the sandbox.

Embedded Valkey, the Slack emulator, `tocsin web` behind gunicorn and a `tocsin worker`:
erin declares a SEV2; tier 1 (alice) is paged on Slack and does not answer, so 2 s later
her phone gets the page by SMS (her rules in demo_config/people.yaml); tier 2 (bob) is
paged, and acknowledges by replying ACK to his SMS (the sandbox's Twilio posts the reply,
signed, to tocsin web's /notify/twilio/sms); two status updates on an accelerated cadence,
the second one late so the reminder fires; alice mitigates; erin resolves; alice leaves a
note and hands her shift to carol from Slack, and the handoff summary lands in #incidents.
Then an Alertmanager notification opens an incident of its own, and its resolution
resolves it. The transcript is printed as it happens; then the sandbox page stays up for
exploring (unless --no-serve).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.cli.alert import sample, send
from bot.config import load_catalog
from bot.sandbox.alerts import AlertButton
from bot.sandbox.emulator import Emulator
from bot.sandbox.narrator import Narrator
from bot.sandbox.stack import LocalStack, stack_env, wait_for
from bot.state.server import redis_url
from bot.state.store import Store

SECRET = "sandbox-signing-secret"  # noqa: S105 - the local sandbox's own secret
ALERTS_TOKEN = "sandbox-alerts-token"  # noqa: S105 - the demo alert source's own token
ERIN, ALICE, BOB, CAROL = "U0ERIN001", "U0ALICE01", "U0BOB0001", "U0CAROL01"


def say(text: str) -> None:
    print(f"\n\033[1m▶ {text}\033[0m" if sys.stdout.isatty() else f"\n> {text}", flush=True)


def _dm(emulator: Emulator, user: str) -> list[dict[str, Any]]:
    return list(emulator.dms(user).get(user, []))


def phones(config: Path) -> dict[str, str]:
    """Each person's phone number (Slack user id -> number), as the people file gives it."""
    people = load_catalog(config).people.people
    return {user: person.phone for user, person in people.items() if person.phone}


def _sms(emulator: Emulator, number: str) -> list[dict[str, Any]]:
    """The pages the phone `number` got from Tocsin (not the answers to its replies)."""
    inbox = emulator.twilio.phones().get(number, {"sms": []})
    return [m for m in inbox["sms"] if m["direction"] == "outbound-api"]


def _view_id(
    emulator: Emulator, user: str, callback: str, seen: frozenset[str] = frozenset()
) -> str:
    """The newest open `callback` modal of `user` that is not one of `seen`."""
    found = wait_for(
        lambda: [
            v for v in emulator.views(user) if v["callback_id"] == callback and v["id"] not in seen
        ]
    )
    return str(found[-1]["id"])


def post_update(emulator: Emulator, channel: str, values: dict[str, str]) -> None:
    seen = frozenset(v["id"] for v in emulator.views(ERIN) if v["callback_id"] == "status_update")
    emulator.act_slash(ERIN, "update", channel=channel)
    view_id = _view_id(emulator, ERIN, "status_update", seen)  # never update 1's, if still open
    emulator.act_submit(ERIN, view_id, {**values, "next_in": "10"})


def script(stack: LocalStack) -> str:
    """Play the incident through the emulator's bridge, as people on the page would: Slack's
    side of each act (a submitted modal closes, an answer shows) happens in the emulator too."""
    emulator = stack.emulator
    phone = phones(Path(stack.env["TOCSIN_CONFIG_DIR"]))
    say("erin declares a SEV2 from #incidents")
    emulator.act_slash(ERIN, "declare sev2 Checkout error rate above 10%", channel="C0INCIDENTS")
    channel = wait_for(lambda: [c for c in emulator.channels() if c["name"].startswith("inc-")])[0]
    cid = channel["id"]
    wait_for(lambda: _dm(emulator, ALICE), timeout=10)
    say("alice (tier 1) is paged on Slack and does not answer; 2 s later her phone gets an SMS")
    wait_for(lambda: _sms(emulator, phone[ALICE]), timeout=10)
    say("alice still does not answer; 5 s after her page, tier 2 (bob) is paged")
    wait_for(lambda: _dm(emulator, BOB), timeout=15)
    wait_for(lambda: _sms(emulator, phone[BOB]), timeout=10)
    time.sleep(1)
    say("bob acknowledges by replying ACK to the SMS on his phone")
    answer = emulator.twilio.reply(phone[BOB], "ACK")
    if not answer["ok"]:
        raise AssertionError(f"bob's SMS reply was not taken: {answer}")
    wait_for(lambda: any("Acknowledged" in m["text"] for m in emulator.transcript(cid)))
    say("erin posts status update 1 (next one due in 10 s)")
    post_update(
        emulator,
        cid,
        {
            "status": "identified",
            "symptoms": "checkout 5xx at 12% since 14:02; payments provider p99 at 9 s",
            "actions": "rolled back checkout deploy 4812; opened P1 with the provider",
            "next_steps": "watch error rate for 10 minutes; prepare failover to secondary provider",
        },
    )
    say("the next update is late: the reminder fires in the thread")
    wait_for(
        lambda: any("was due" in r["text"] for r in emulator.transcript(cid)[0].get("replies", [])),
        timeout=20,
    )
    say("erin posts status update 2")
    post_update(
        emulator,
        cid,
        {
            "status": "monitoring",
            "symptoms": "5xx back under 0.5%",
            "actions": "failed payments over to the secondary provider",
            "next_steps": "monitor; keep the primary provider drained until they confirm a fix",
        },
    )
    time.sleep(1)
    say("alice mitigates")
    emulator.act_slash(ALICE, "mitigate", channel=cid)
    time.sleep(1)
    say("erin resolves from the header's Resolve button")
    header = emulator.transcript(cid)[0]
    emulator.act_click(ERIN, "incident_resolve", channel=cid, ts=header["ts"])
    view_id = _view_id(emulator, ERIN, "resolve_incident")
    emulator.act_submit(
        ERIN, view_id, {"summary": "provider degradation; failed over; error rate normal"}
    )
    wait_for(lambda: any("Resolved by" in m["text"] for m in emulator.transcript(cid)), timeout=10)
    time.sleep(1.5)
    handoff(stack)
    return str(cid)


def alert_script(stack: LocalStack, config: Path) -> str:
    """An alert opens an incident of its own; its resolution resolves it (on_clear: resolve)."""
    emulator = stack.emulator
    source = load_catalog(config).alert_sources["prometheus"]
    before = {c["id"] for c in emulator.channels() if c["name"].startswith("inc-")}
    say("Alertmanager posts a firing alert to /alerts/prometheus")
    body = json.dumps(sample("alertmanager")).encode()
    status, answer = send(stack.url, source, body, stack.env)
    if status != 202:
        raise AssertionError(f"/alerts/prometheus answered {status}: {answer}")
    new = wait_for(
        lambda: [
            c for c in emulator.channels() if c["name"].startswith("inc-") and c["id"] not in before
        ],
        timeout=15,
    )
    cid = str(new[0]["id"])
    wait_for(lambda: any(m.get("replies") for m in emulator.transcript(cid)), timeout=15)
    time.sleep(1)
    say("the alert resolves: Alertmanager sends the resolution, and the incident resolves")
    send(stack.url, source, json.dumps(sample("alertmanager", resolve=True)).encode(), stack.env)
    wait_for(lambda: any("Resolved by" in m["text"] for m in emulator.transcript(cid)), timeout=15)
    time.sleep(1)
    return cid


def handoff(stack: LocalStack) -> None:
    """alice hands payments-primary to carol for two minutes: the handoff post follows."""
    driver = stack.driver()
    say("alice leaves a note for her handoff, then hands payments-primary to carol from Slack")
    driver.slash(ALICE, "oncall note provider still flaky; keep an eye on checkout 5xx")
    until = datetime.now(ZoneInfo("Europe/Stockholm")) + timedelta(minutes=2)
    driver.slash(ALICE, f"oncall override payments-primary <@{CAROL}> now {until:%Y-%m-%d %H:%M}")
    wait_for(
        lambda: any("Handoff on" in m["text"] for m in stack.emulator.transcript("C0INCIDENTS")),
        timeout=15,
    )


def summary(redis: str, emulator: Emulator, channel: str) -> None:
    from bot.state.server import connect

    store = Store(connect(redis))
    incident_id = store.incident_for_channel(channel)
    if incident_id is None:
        raise RuntimeError(f"no incident has the channel {channel}")
    incident = store.get(incident_id)
    start = incident.declared_at

    def took(moment: datetime | None) -> str:
        return f"{(moment - start).total_seconds():.1f} s" if moment else "—"

    say("timeline (from Redis), and the figures it feeds")
    for entry in store.timeline(incident_id):
        at = entry.at.astimezone(UTC).strftime("%H:%M:%S")
        print(f"  {at}  {entry.kind.value:<18} {entry.text[:110]}")
    print(
        f"\n  time to acknowledge {took(incident.acknowledged_at)} · time to contain "
        f"{took(incident.mitigated_at)} · time to resolve {took(incident.resolved_at)}"
    )


def run_demo(serve: bool = True, port: int = 8765) -> int:
    config = Path(str(resources.files("bot.sandbox").joinpath("demo_config")))
    runbooks = Path.cwd() / "runbooks"
    with redis_url(None) as url, tempfile.TemporaryDirectory(prefix="tocsin-demo-") as logs:
        emulator = Emulator(port=port if serve else 0).start()
        env = stack_env(url, emulator, config, runbooks, SECRET)
        env["TOCSIN_ALERTS_DEMO_TOKEN"] = ALERTS_TOKEN
        stack = LocalStack(emulator, env, Path(logs), SECRET)
        narrator = Narrator(emulator, phones={n: u for u, n in phones(config).items()})
        try:
            print(
                "Starting embedded Valkey, the Slack emulator, tocsin web and a worker…", flush=True
            )
            stack.start()
            emulator.alert_button = AlertButton(stack.url + "/alerts/prometheus", ALERTS_TOKEN)
            narrator.start()
            channel = script(stack)
            alerted = alert_script(stack, config)
            narrator.stop()
            summary(url, emulator, channel)
            summary(url, emulator, alerted)
            if serve:
                print(f"\nThe sandbox page: {emulator.root_url}  (Ctrl-C to stop)", flush=True)
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            pass
        except AssertionError as exc:
            print(f"\ndemo failed: {exc}\n{stack.logs()}", file=sys.stderr)
            return 1
        finally:
            narrator.stopping.set()
            stack.stop()
            emulator.stop()
    return 0
