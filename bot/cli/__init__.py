"""`tocsin` entry point: check | schema | simulate | calendar url | import | worker | health |
sandbox | demo | report | export | alert."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from bot.config import ConfigError, json_schema, load_catalog, run_check
from bot.config.settings import Settings, SettingsError
from bot.domain.catalog import Catalog
from bot.domain.durations import DurationError, parse_duration
from bot.domain.words import count
from bot.slack_api.directory import StaticDirectory

CONFIG_DEFAULT = (
    "(default: the one the bot loads: TOCSIN_CONFIG_DIR, or TOCSIN_CONFIG_FALLBACK while that "
    "holds no YAML file, else escalation_policies)"
)


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Each argument's help, with its default when it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tocsin", description="Incident escalation bot", formatter_class=_Help
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=summary, formatter_class=_Help)

    check = command("check", "validate escalation policies, schedules, severities")
    check.add_argument("directory", nargs="?", help=f"the directory of YAML files {CONFIG_DEFAULT}")

    command("schema", "print the JSON Schema of the config files (for editors)")

    doctor = command(
        "doctor", "check Slack, Redis, alert sources, calendars and config, with fixes"
    )
    doctor.add_argument("--json", action="store_true", help="print the checklist as JSON")
    doctor.add_argument(
        "--manifest",
        default="slack-app-manifest.yaml",
        help="the app manifest whose bot scopes must be granted (default: %(default)s)",
    )

    sim = command("simulate", "who is paged when, on a virtual clock")
    sim.add_argument("policy", help="the policy's name (its `name:` key)")
    sim.add_argument("--config-dir", help=f"the directory of YAML files {CONFIG_DEFAULT}")
    sim.add_argument("--start", required=True, help="ISO-8601 instant, e.g. 2026-03-01T10:00:00Z")
    sim.add_argument(
        "--event",
        action="append",
        default=[],
        help="OFFSET:ack|escalate|resolve, e.g. 10m:ack; repeat for several",
    )
    sim.add_argument("--until", default="24h", help="how far to simulate")
    sim.add_argument(
        "--directory",
        help="workspace YAML with users and usergroups, to resolve emails and groups "
        "(default: the sandbox's workspace)",
    )
    sim.add_argument("--json", action="store_true", help="print the stable JSON form")
    sim.add_argument(
        "--live",
        action="store_true",
        help="include the overrides and swaps made from Slack (read from REDIS_URL)",
    )

    def action(parent: argparse.ArgumentParser, dest: str, what: str) -> Any:
        return parent.add_subparsers(dest=dest, required=True, metavar="ACTION", help=what)

    def subcommand(group: Any, name: str, summary: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = group.add_parser(
            name, help=summary, description=summary, formatter_class=_Help
        )
        return parser

    cal = command("calendar", "calendar feeds of who is on call")
    url = subcommand(
        action(cal, "calendar_command", "what to do: url"),
        "url",
        "print the address of a schedule's or person's feed",
    )
    which = url.add_mutually_exclusive_group(required=True)
    which.add_argument("schedule", nargs="?", help="schedule name")
    which.add_argument("--person", help="a person's Slack user id (or email): all their shifts")
    url.add_argument("--config-dir", help=f"the directory of YAML files {CONFIG_DEFAULT}")
    url.add_argument("--base-url", help="where tocsin web is reached (default: TOCSIN_PUBLIC_URL)")

    imp = command("import", "turn another tool's exported schedules into Tocsin YAML")
    tools = action(imp, "source", "the tool the export comes from: pagerduty or opsgenie")
    pd = subcommand(tools, "pagerduty", "PagerDuty REST exports (JSON)")
    pd.add_argument(
        "--escalation-policies",
        type=Path,
        required=True,
        metavar="EP.json",
        help="the escalation policies export (REST API JSON)",
    )
    pd.add_argument(
        "--schedules",
        type=Path,
        required=True,
        metavar="S.json",
        help="the schedules export; with final_schedule, the result is checked against it",
    )
    pd.add_argument("--users", type=Path, metavar="U.json", help="users with emails")
    pd.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to write YAML")
    og = subcommand(tools, "opsgenie", "Opsgenie REST exports (JSON)")
    og.add_argument(
        "--escalations", type=Path, required=True, metavar="E.json", help="escalations export"
    )
    og.add_argument(
        "--schedules", type=Path, required=True, metavar="S.json", help="schedules with rotations"
    )
    og.add_argument("--out", type=Path, required=True, metavar="DIR", help="where to write YAML")

    worker = command("worker", "run an RQ worker with the scheduler and reconciler")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.add_argument("--name", help="the worker's name in RQ (default: host and pid)")

    web = command("web", "serve the Slack app over HTTP (gunicorn)")
    web.add_argument("--bind", default="0.0.0.0:3000", help="address and port to listen on")
    web.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    web.add_argument("--threads", type=int, default=8, help="threads per worker process")

    command("socket", "connect the Slack app over Socket Mode (needs SLACK_APP_TOKEN)")

    health = command(
        "health",
        "container health check of the web or the worker (by default, of the role the "
        "container's main command runs)",
    )
    role = health.add_mutually_exclusive_group()
    role.add_argument(
        "--web", dest="role", action="store_const", const="web", help="probe :3000/healthz"
    )
    role.add_argument(
        "--worker",
        dest="role",
        action="store_const",
        const="worker",
        help="a worker on this host sent its heartbeat to Redis within 60 s",
    )

    sandbox = command("sandbox", "run the local Slack emulator and its page")
    sandbox.add_argument("--port", type=int, default=8765, help="port of the sandbox page")
    sandbox.add_argument(
        "--workspace", type=Path, help="workspace YAML (default: the bundled example workspace)"
    )
    sandbox.add_argument(
        "--app-url",
        help="where the bot listens, e.g. http://127.0.0.1:3000/slack/events; requests to it "
        "are signed with SLACK_SIGNING_SECRET from the environment",
    )
    sandbox.add_argument(
        "--allow-remote-app",
        action="store_true",
        help="allow an --app-url on another machine (it receives requests signed with your secret)",
    )
    sandbox.add_argument("--signing-secret", help=argparse.SUPPRESS)  # refused: argv is public

    demo = command("demo", "play a scripted incident on the local Slack sandbox")
    demo.add_argument("--no-serve", action="store_true", help="exit after the script")
    demo.add_argument("--port", type=int, default=8765, help="port of the sandbox page")

    report = command("report", "write an HTML report of incident metrics with charts")
    report.add_argument("--since", default="90d", help="how far back")
    report.add_argument("--out", type=Path, default=Path("report.html"), help="file to write")
    report.add_argument(
        "--synthetic", type=int, help="use a generated history of N incidents (no Redis needed)"
    )
    report.add_argument("--seed", type=int, default=7, help="seed of the synthetic history")

    export = command("export", "write an incident's post-incident review (needs REDIS_URL)")
    export.add_argument("incident", help="incident id, e.g. 20260309-1")
    export.add_argument("--format", choices=("md", "json"), default="md", help="Markdown or JSON")
    export.add_argument("--out", type=Path, help="file to write (default: stdout)")
    alert = command("alert", "send a sample alert to tocsin web's /alerts/<source>")
    alert_sub = alert.add_subparsers(
        dest="alert_command", required=True, metavar="ACTION", help="what to do: send"
    )
    about = "post a sample notification as SOURCE, signed with its credentials"
    send = alert_sub.add_parser("send", help=about, description=about, formatter_class=_Help)
    send.add_argument("source", help="a source of alerts.yaml (alert_sources:)")
    send.add_argument(
        "--sample",
        choices=("alertmanager", "grafana", "generic"),
        required=True,
        help="the payload shape to send",
    )
    send.add_argument("--resolve", action="store_true", help="send it resolved")
    send.add_argument("--url", default="http://127.0.0.1:3000", help="where tocsin web listens")
    send.add_argument(
        "--config",
        type=Path,
        help="config directory (default: $TOCSIN_CONFIG_DIR, else ./escalation_policies)",
    )
    return parser


def _default_workspace() -> Path:
    return Path(str(resources.files("bot.sandbox").joinpath("workspace.yaml")))


def _parse_start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(
            f"--start {text!r} is not an ISO-8601 instant like 2026-03-01T10:00:00Z"
        ) from None
    if start.tzinfo is None:
        raise SettingsError(f"--start {text!r} needs a zone: add Z for UTC")
    return start.astimezone(UTC)


def _live(catalog: Catalog) -> Catalog:
    """The catalog with the schedule changes kept in Redis (REDIS_URL) layered on."""
    from bot.domain.oncall import layered_catalog
    from bot.runtime import redis_target
    from bot.state.oncall import ScheduleChanges
    from bot.state.target import open_redis

    settings = Settings.from_env()
    if not settings.redis_configured:
        raise SettingsError("--live reads the schedule changes from Redis: set REDIS_URL")
    import redis

    try:
        return layered_catalog(catalog, ScheduleChanges(open_redis(redis_target(settings))).all())
    except redis.RedisError as exc:
        raise SettingsError(f"--live: cannot read the schedule changes from Redis: {exc}") from None


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.incident.simulate import Event, simulate

    config_dir = args.config_dir or Settings.from_env().config_in_use
    catalog = load_catalog(config_dir)
    if args.live:
        catalog = _live(catalog)
    policy = catalog.policies.get(args.policy)
    if policy is None:
        known = ", ".join(sorted(catalog.policies)) or "none"
        raise SettingsError(f"no policy {args.policy!r} in {config_dir} (known: {known})")
    try:
        until = parse_duration(args.until)
    except DurationError as exc:
        raise SettingsError(f"--until: {exc}") from None
    directory = StaticDirectory.from_file(
        Path(args.directory) if args.directory else _default_workspace()
    )
    events = [Event.parse(e) for e in args.event]
    result = simulate(catalog, policy, directory, _parse_start(args.start), events, until)
    if args.json:
        print(result.to_json())
    else:
        print(f"policy {policy.name}: {count(len(policy.steps), 'step')}, repeat {policy.repeat}")
        print("\n".join(result.lines))
    return 0


def cmd_calendar_url(args: argparse.Namespace) -> int:
    from bot.domain.calendar import Feed
    from bot.oncall.calendar import feed_url

    settings = Settings.from_env()
    if not settings.calendar_secret:
        raise SettingsError("set TOCSIN_CALENDAR_SECRET (the same as tocsin web's) first")
    base = args.base_url or settings.public_url
    if not base:
        raise SettingsError("give --base-url or set TOCSIN_PUBLIC_URL (where tocsin web is)")
    if args.person:
        feed = Feed("person", args.person)
    else:
        config_dir = args.config_dir or Settings.from_env().config_in_use
        schedules = load_catalog(config_dir).schedules
        if args.schedule not in schedules:
            known = ", ".join(sorted(schedules)) or "none"
            raise SettingsError(f"no schedule {args.schedule!r} in {config_dir} ({known})")
        feed = Feed("schedule", args.schedule)
    print(feed_url(base, settings.calendar_secret, feed))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            from bot.config.examples import sandbox_examples

            directory = args.directory or Settings.from_env().config_in_use
            return run_check(directory, sys.stdout, sandbox_examples(_default_workspace()))
        if args.command == "doctor":
            from bot.cli.doctor import run_doctor

            return run_doctor(Settings.from_env(), Path(args.manifest), args.json, sys.stdout)
        if args.command == "schema":
            print(json.dumps(json_schema(), indent=2))
            return 0
        if args.command == "simulate":
            return cmd_simulate(args)
        if args.command == "calendar":
            return cmd_calendar_url(args)
        if args.command == "import":
            from bot.importers.run import run_opsgenie, run_pagerduty

            if args.source == "opsgenie":
                return run_opsgenie(args.escalations, args.schedules, args.out, sys.stdout)
            return run_pagerduty(
                args.escalation_policies, args.schedules, args.users, args.out, sys.stdout
            )
        if args.command in ("report", "export"):
            from bot.cli.report import run_export, run_report

            if args.command == "report":
                sample = _default_workspace() if args.synthetic is not None else None
                return run_report(
                    args.since, args.out, args.synthetic, args.seed, sys.stdout, None, sample
                )
            return run_export(args.incident, args.format, args.out, sys.stdout)
        if args.command == "alert":
            from bot.cli.alert import run_send

            config = args.config or Settings.from_env().config_in_use
            return run_send(args.source, args.sample, args.resolve, args.url, config, sys.stdout)
        if args.command == "health":
            from bot.cli.health import run_health

            return run_health(args.role, sys.stdout)
        if args.command == "demo":
            from bot.cli.demo import run_demo

            return run_demo(serve=not args.no_serve, port=args.port)
        if args.command == "sandbox":
            from bot.sandbox.cli import run_sandbox

            if args.signing_secret is not None:
                raise SettingsError(
                    "--signing-secret is not taken on the command line (every user sees it in "
                    "ps): set SLACK_SIGNING_SECRET in the environment instead"
                )
            secret = os.environ.get("SLACK_SIGNING_SECRET") or None
            return run_sandbox(
                args.port,
                args.workspace,
                args.app_url,
                secret,
                allow_remote_app=args.allow_remote_app,
            )
        if args.command in ("web", "socket"):
            from bot.logs import configure

            configure()
            if args.command == "socket":
                from bot.socketmode import run_socket

                return run_socket(Settings.from_env())
            from bot.web import run_web

            return run_web(Settings.from_env(), args.bind, args.workers, args.threads)
        if args.command == "worker":
            from bot.logs import configure
            from bot.worker import run_worker

            configure()
            return run_worker(Settings.from_env(), burst=args.burst, name=args.name)
    except (SettingsError, ConfigError, ValueError) as exc:
        # SimulationError and DurationError are ValueErrors with a message for people.
        print(f"tocsin {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
