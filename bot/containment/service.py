"""Containment actions: a press (or an alert route) asks for a run, a job sends it.

`press` checks that the action is in the incident's runbook, the repeat window (the same
action pressed again within it asks first), and the right the action names (the tier's
`contain` unless it says otherwise); it records the request on the timeline and enqueues
the run. `run` (the job) sends the signed POST once: a marker says "sending" before the
POST, so a job retried after a crash between sending and recording does not send again but
says so. The outcome goes in the runbook post's thread and on the timeline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog
from slack_sdk import WebClient

from bot import clock
from bot.containment.webhook import Sent, Webhook
from bot.domain import incident as machine
from bot.domain.containment import REPEAT_WINDOW_S, ContainmentAction, repeat_wait
from bot.domain.incident import Action, Incident
from bot.domain.runbook import RunbookIndex
from bot.domain.timeline import BOT, Entry, Kind
from bot.incident.commands import Engine
from bot.incident.spec import Authorize, CommandSpec, say
from bot.render import containment as words
from bot.state import keys

log = structlog.get_logger(__name__)

NOT_IN_RUNBOOK = ":no_entry: That action is not in this incident's runbook; nothing was done."
KEEP_S = 7 * 86400  # how long a run's send marker is kept


@dataclass
class Containment:
    engine: Engine
    runbooks: Callable[[], RunbookIndex]
    client: WebClient | None
    env: Mapping[str, str]  # where the webhooks' URLs and secrets are read, at send time
    webhook: Webhook

    def action(self, incident: Incident, action_id: str) -> ContainmentAction | None:
        runbook = self.runbooks().for_service(incident.service)
        return runbook.action(action_id) if runbook is not None else None

    def press(self, incident: Incident, action_id: str, user: str, thread_ts: str | None) -> str:
        """Ask for a run of `action_id` by `user`; what to tell them ("" when it started)."""
        action = self.action(incident, action_id)
        if action is None:
            log.warning("containment_unknown_action", incident_id=incident.id, action=action_id)
            return NOT_IN_RUNBOOK
        authorize = self._rights(action, user)
        refused = self.engine.refusal(incident, user, Action.CONTAIN, authorize)
        if refused is not None:
            return f":no_entry: {refused}"
        markers = self.engine.store.markers
        now = clock.now_ts()
        last_key = keys.containment_last(incident.id, action.id)
        if not markers.first(last_key, REPEAT_WINDOW_S, now):
            again = keys.containment_again(incident.id, action.id, user)
            if not markers.take(again):
                last = markers.get(last_key)
                markers.put(again, "1", REPEAT_WINDOW_S)
                wait = repeat_wait(float(last) if last else None, now)
                return words.ask_again(action.label, wait or 1)
            markers.put(last_key, now, REPEAT_WINDOW_S)
        started = self.start(incident, action, user, thread_ts)
        if started:
            markers.forget(last_key)
        return started

    def _rights(self, action: ContainmentAction, user: str) -> Authorize:
        catalog = self.engine.esc.catalog

        def authorize(incident: Incident, groups: frozenset[str]) -> tuple[bool, str]:
            rights = catalog().tier(incident.severity).rights
            return machine.authorize_right(rights, action.right, incident, user, groups)

        return authorize

    def start(
        self,
        incident: Incident,
        action: ContainmentAction,
        user: str,
        thread_ts: str | None,
        *,
        automatic: bool = False,
    ) -> str:
        """Record the request (rights checked again) and enqueue the run; "" when started.
        An automatic run is also announced in the channel (once it exists)."""
        announce = words.announce_automatic(action.label, incident.severity) if automatic else ""
        spec = CommandSpec(
            Action.CONTAIN,
            lambda inc, pipe, now: inc,
            Kind.CONTAINMENT,
            words.requested(action.label, user, automatic=automatic),
            announce=announce,
            record_only=True,
            authorize=self._rights(action, user),
        )
        outcome = self.engine.command(incident.id, user, spec, incident)
        if not outcome.ok:
            return f":no_entry: {outcome.message}"
        run_id = uuid.uuid4().hex
        timers = self.engine.esc.timers
        if automatic:
            timers.drain_soon(incident.id, "containment")  # the announcement
        timers.run_containment(incident.id, action.id, run_id, user, thread_ts)
        log.info("containment_requested", incident_id=incident.id, action=action.id, run=run_id)
        return ""

    def automatic(self, incident: Incident, user: str) -> list[str]:
        """Run the runbook's actions whose `auto_when` lists the incident's severity (never
        on a drill unless the action allows it), each once per incident, as `user` (an alert
        source, which may act on the incidents it declared). The ids of those started."""
        runbook = self.runbooks().for_service(incident.service)
        markers = self.engine.store.markers
        started: list[str] = []
        for action in runbook.actions if runbook is not None else ():
            if not action.runs_automatically(incident.severity, drill=incident.drill):
                continue
            key = keys.containment_auto(incident.id, action.id)
            if not markers.first(key, KEEP_S):
                continue
            refused = self.start(incident, action, user, None, automatic=True)
            if refused:
                markers.forget(key)
                log.warning("containment_auto_refused", incident_id=incident.id, why=refused)
            else:
                started.append(action.id)
        return started

    def run(
        self, incident_id: str, action_id: str, run_id: str, user: str, thread_ts: str | None
    ) -> str:
        """Send the run's POST once and tell its outcome (the job)."""
        store = self.engine.store
        incident = store.get(incident_id)
        action = self.action(incident, action_id)
        send_key = keys.containment_send(run_id)
        if action is None:
            self._tell(incident, thread_ts, NOT_IN_RUNBOOK, "no longer in the runbook")
            return "unknown"
        if not store.markers.first(send_key, KEEP_S, "sending"):
            if store.markers.get(send_key) == "done":
                return "done"
            self._tell(incident, thread_ts, words.interrupted(action.label), "interrupted")
            store.markers.put(send_key, "done", KEEP_S)
            return "interrupted"
        url, secret = self.env.get(action.url_env), self.env.get(action.secret_env)
        if not url or not secret:
            missing = action.url_env if not url else action.secret_env
            self._tell(incident, thread_ts, words.not_configured(action.label, missing), "unset")
            store.markers.put(send_key, "done", KEEP_S)
            return "not configured"
        body = self._body(incident, action, run_id, user)
        sent = self.webhook.send(url, secret, body, run_id, action.timeout_s)
        said = words.outcome(action.label, sent.status, sent.excerpt, sent.attempts, sent.ok)
        self._tell(incident, thread_ts, said, _summary(sent))
        store.markers.put(send_key, "done", KEEP_S)
        return "sent" if sent.ok else "failed"

    def _body(self, incident: Incident, action: ContainmentAction, run_id: str, user: str) -> bytes:
        about = {"id": incident.id, "severity": incident.severity, "service": incident.service}
        if not incident.private:
            about["title"] = incident.title
        return json.dumps(
            {
                "run_id": run_id,
                "action": action.id,
                "params": dict(action.params),
                "incident": about,
                "requested_by": user,
                "drill": incident.drill,
                "at": int(clock.now_ts()),
            },
            sort_keys=True,
        ).encode()

    def _tell(self, incident: Incident, thread_ts: str | None, text: str, summary: str) -> None:
        """The outcome on the timeline and in the runbook post's thread (else the channel;
        an incident whose channel is not open yet is told through the outbox)."""
        store, now = self.engine.store, clock.now()
        log.info("containment_outcome", incident_id=incident.id, outcome=summary)
        if self.client is None or incident.channel_id is None:
            with store.transaction() as pipe:
                store.record(incident.id, Entry(now, Kind.CONTAINMENT, BOT, text), pipe)
                store.add_outbox(incident.id, [say(text, now)], pipe)
            self.engine.esc.timers.drain_soon(incident.id, "containment")
            return
        store.record(incident.id, Entry(now, Kind.CONTAINMENT, BOT, text))
        posted = self.engine.store.markers.get(keys.channel_marker(incident.id, "runbook"))
        thread = thread_ts or (posted if posted and posted[:1].isdigit() else None)
        self.client.chat_postMessage(channel=incident.channel_id, thread_ts=thread, text=text)


def _summary(sent: Sent) -> str:
    return f"status {sent.status} after {sent.attempts} attempts"
