"""The self-test (`drills.yaml`, `self_test:`): at each firing of its cron, a drill-marked
page to whoever is on call for each schedule, by Slack DM with an Acknowledge button.

No incident is declared and no channel opened: the run is its own record
(`bot.state.selftests`). Each page is sent once, crashes included: its attempt is recorded
before the send and, after a crash, the DM is searched for it (its metadata key) before it
is sent again (`bot.state.once`). `answer_within` after the firing the run's result joins
the drill results (`tocsin report`, the per-person figures of every later drill report),
and its report is posted in `report_channel` when there is one.

Jobs come through the drills' due index (`bot.drills.schedule` dispatches keys starting
`self-test`): the firing (`self-test~<cron>~<tz>`, under the drills' do-once marker), the
pages' sending (`self-test-send~<run>`, re-armed by the reconciler while a page is unsent)
and the report (`self-test-report~<run>`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import structlog
from slack_sdk import WebClient

from bot import clock
from bot.domain.catalog import Catalog
from bot.domain.drills import SELF_TEST, SelfTest, per_person, self_test_result
from bot.domain.outcomes import JobOutcome
from bot.domain.schedule import on_call
from bot.render.drills import report_text, self_test_nobody, self_test_page
from bot.slack_api.history import find_posted, tag
from bot.state.drill_timers import DrillTimers, member
from bot.state.drills import DrillResults
from bot.state.leases import Leases
from bot.state.markers import Markers
from bot.state.once import SendLedger, send_once
from bot.state.selftests import SelfTestRuns, reported_marker, run_id, sending_lease

log = structlog.get_logger(__name__)
EVENT_TYPE = "tocsin_self_test"
SEND, REPORT = f"{SELF_TEST}-send", f"{SELF_TEST}-report"
LAST_DRILLS = 10  # as the drill report's figures
HOLD_S, KEEP_S = 300, 35 * 86400


class SelfTests:
    def __init__(
        self,
        catalog: Callable[[], Catalog],
        runs: SelfTestRuns,
        results: DrillResults,
        timers: DrillTimers,
        markers: Markers,
        slack: WebClient | None,
        owner: str,
        lease_s: float,
    ) -> None:
        self.catalog, self.runs, self.results = catalog, runs, results
        self.timers, self.markers, self.slack, self.owner = timers, markers, slack, owner
        self.lease_s = lease_s  # the run's sending lease (renewed while its holder lives)
        self.retry_s = max(2.0, 2 * lease_s)  # a page not sent is tried again this late
        self.leases = Leases(runs.r)

    def owed(self, now: float) -> dict[str, float]:
        """Due-index entries for the open runs: the sending of a page still unsent (`retry_s`
        on: Slack failed, or the worker sending was killed) and the report (at its time).
        Armed NX: an entry already waiting is left as it is."""
        entries: dict[str, float] = {}
        for run in self.runs.open_runs():
            record = self.runs.read(run)
            if not record:  # expired
                self.runs.closed(run)
                continue
            epoch = int(float(record["fired_at"]))
            ledger = self.runs.ledger(run)
            if any(ledger.ref(u) is None for u in _pages(record)):
                entries[member(epoch, f"{SEND}~{run}")] = now + self.retry_s
            entries[member(epoch, f"{REPORT}~{run}")] = float(record["report_at"])
        return entries

    @staticmethod
    def owns(key: str) -> bool:
        """Whether a key of the drills' due index is a run's sending or report."""
        return key.partition("~")[0] in (SEND, REPORT)

    def run(self, key: str) -> JobOutcome:
        """The job for a run's entry of the drills' due index: send its pages or report."""
        kind, _, run = key.partition("~")
        done = self.send(run) if kind == SEND else kind == REPORT and self.report(run)
        return JobOutcome.STEPPED if done else JobOutcome.ALREADY

    def open(self, epoch: int, test: SelfTest) -> None:
        """The firing at `epoch`: record who is paged now, and arm the report."""
        catalog, now = self.catalog(), clock.now()
        names = test.schedules or tuple(sorted(catalog.schedules))
        pages: dict[str, list[str]] = {}
        nobody = []
        for name in names:
            schedule = catalog.schedules.get(name)
            people = on_call(schedule, now) if schedule else ()
            if not people:
                nobody.append(name)
            for user in people:
                pages.setdefault(user, []).append(name)
        run = run_id(epoch)
        report_at = now.timestamp() + test.answer_within_s
        self.runs.open(run, now.timestamp(), report_at, pages, nobody)
        self.timers.arm({member(epoch, f"{REPORT}~{run}"): report_at})
        log.info("self_test_fired", run=run, people=len(pages), nobody=nobody)

    def send(self, run: str) -> bool:
        """Send the run's pages not sent yet, holding its sending lease; False when another
        worker holds it (it sends them) or nothing is left to send."""
        record, slack = self.runs.read(run), self.slack
        if slack is None or not record or "reported" in record:
            return False
        test = self.catalog().self_test
        within = test.answer_within_s if test else 1800.0
        ledger, sent = self.runs.ledger(run), False
        with self.leases.kept(sending_lease(run), self.owner, self.lease_s) as held:
            if not held:
                return False
            for user, schedules in _pages(record).items():
                try:
                    done = send_once(
                        ledger,
                        user,
                        partial(_page, slack, run, user, schedules, within),
                        partial(_find, slack, run, user),
                        clock.now_ts(),
                    )
                except Exception as exc:  # Slack refused or failed: a later send tries again
                    log.warning("self_test_page_failed", run=run, user_id=user, error=str(exc))
                    continue
                sent = sent or done == "sent"
        return sent

    def acknowledge(self, run: str, user: str) -> str:
        """`user` pressed Acknowledge on run `run`'s page: what to tell them."""
        record = self.runs.read(run)
        if f"page:{user}" not in record:
            return "This self-test page was not sent to you: only the person paged can answer it."
        said = self.runs.acknowledge(run, user, clock.now_ts())
        if said == "late":
            return "This self-test is over: its report is in. Thank you all the same."
        if said == "already":
            return "You acknowledged this self-test already."
        log.info("self_test_acknowledged", run=run, user_id=user)
        return "Acknowledged: pages reach you. Thank you, nothing else to do."

    def report(self, run: str) -> bool:
        """Keep the run's result with the drills' and post its report (once)."""
        return self.markers.once(
            reported_marker(run),
            lambda: self._report(run),
            hold_s=HOLD_S,
            keep_s=KEEP_S,
            holding="reporting",
            done="reported",
        )

    def _report(self, run: str) -> None:
        record = self.runs.read(run)
        if not record:
            self.runs.closed(run)
            return
        self.runs.mark_reported(run)
        ledger, pages = self.runs.ledger(run), _pages(record)
        sent_at = {u: _sent_at(ref) for u in pages if (ref := ledger.ref(u)) is not None}
        acked = {
            k.removeprefix("acked:"): float(v) for k, v in record.items() if k.startswith("acked:")
        }
        result = self_test_result(run, float(record["fired_at"]), pages, sent_at, acked)
        self.results.save(result)
        test = self.catalog().self_test
        if test is not None and test.report_channel and self.slack is not None:
            slack = self.slack
            history = per_person(self.results.last(LAST_DRILLS))
            text = report_text(result, history, title="Self-test report")
            nobody = [k.removeprefix("nobody:") for k in record if k.startswith("nobody:")]
            if nobody:
                text += "\n" + self_test_nobody(nobody)
            _post_report(slack, self.runs.ledger(run), run, test.report_channel, text)
        self.runs.closed(run)
        log.info("self_test_reported", run=run, people=len(result.people))


def _dm(slack: WebClient, user: str) -> str:
    return str(slack.conversations_open(users=user)["channel"]["id"])


def _page(slack: WebClient, run: str, user: str, schedules: list[str], within_s: float) -> str:
    channel = _dm(slack, user)
    page = self_test_page(run, schedules, within_s)
    answer = slack.chat_postMessage(
        channel=channel,
        text=page[0]["text"]["text"],
        blocks=page,
        metadata=tag(EVENT_TYPE, (run, user)),
    )
    log.info("self_test_paged", run=run, user_id=user)
    return f"{channel}/{answer['ts']}"


def _find(slack: WebClient, run: str, user: str, since: float) -> str | None:
    channel = _dm(slack, user)
    ts = find_posted(slack, channel, since, (run, user), limit=50)
    return None if ts is None else f"{channel}/{ts}"


def _post_report(slack: WebClient, ledger: SendLedger, run: str, channel: str, text: str) -> None:
    """Post the report in `channel`, once (found by its metadata after a crash)."""

    def post() -> str:
        answer = slack.chat_postMessage(
            channel=channel, text=text, metadata=tag(EVENT_TYPE, (run, "report"))
        )
        return str(answer["ts"])

    def find(since: float) -> str | None:
        return find_posted(slack, channel, since, (run, "report"), limit=50)

    send_once(ledger, "report", post, find, clock.now_ts())


def _pages(record: dict[str, str]) -> dict[str, list[str]]:
    return {
        k.removeprefix("page:"): v.split(",") for k, v in record.items() if k.startswith("page:")
    }


def _sent_at(ref: str) -> float:
    """When a page landed: the Slack ts of its reference `<channel>/<ts>`."""
    return float(ref.rpartition("/")[2])
