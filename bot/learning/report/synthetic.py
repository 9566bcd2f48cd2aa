"""A synthetic incident history (`tocsin report --synthetic 200`), seeded and reproducible.

Real `Incident` records and timeline entries are generated, then go through the same
`facts()` as production data, so the report, the stats and their tests exercise the real
code path. Shapes: sev1 rarer and faster to acknowledge, nights and weekends slower, some
escalations reaching the last step, a few drills (excluded from every figure).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.incident import Incident, Roles, Status
from bot.domain.milestones import Facts, facts
from bot.domain.policy import Policy, Step, Target
from bot.domain.timeline import BOT, Entry, Kind

SERVICES = ("checkout", "payments-api", "search", "auth", "notifications", "web")
PEOPLE = ("U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DAVE001", "U0FRANK01", "U0GRACE01")
SEVERITIES = (("sev1", 0.12), ("sev2", 0.38), ("sev3", 0.50))
_ACK_MEDIAN_S = {"sev1": 180.0, "sev2": 420.0, "sev3": 900.0}
_RESOLVE_MEDIAN_S = {"sev1": 3600.0, "sev2": 2.5 * 3600, "sev3": 6 * 3600}


def _policy(service: str) -> Policy:
    steps = tuple(Step((Target.parse(f"user:{p}"),), 600) for p in PEOPLE[:3])
    return Policy(name=f"{service}-oncall", services=(service,), steps=steps, repeat=0)


def generate(
    count: int, until: datetime, days: int = 90, seed: int = 7
) -> list[tuple[Incident, list[tuple[Entry, dict[str, object]]]]]:
    """`count` resolved incidents declared over the `days` before `until`."""
    rng = random.Random(seed)
    out = []
    start = until - timedelta(days=days)
    for n in range(count):
        declared = start + timedelta(seconds=rng.uniform(0, days * 86400 - 86400))
        declared = declared.replace(microsecond=0)
        sev = rng.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0]
        service = rng.choice(SERVICES)
        week = (declared - start).days // 7
        improving = 1.0 - 0.04 * week  # the protocol gets faster over the quarter
        night = declared.hour < 7 or declared.hour >= 20 or declared.weekday() >= 5
        tta = rng.lognormvariate(0, 0.6) * _ACK_MEDIAN_S[sev] * improving * (1.8 if night else 1.0)
        ttc = tta + rng.lognormvariate(0, 0.7) * _RESOLVE_MEDIAN_S[sev] * 0.4
        ttr = ttc + rng.lognormvariate(0, 0.7) * _RESOLVE_MEDIAN_S[sev] * 0.6
        policy = _policy(service)
        rota = rng.sample(PEOPLE, 3)
        steps_paged = min(3, 1 + int(tta // 600))
        timeline: list[tuple[Entry, dict[str, object]]] = [
            (Entry(declared, Kind.DECLARED, rota[0], f"declared {sev} on {service}"), {})
        ]
        for step in range(steps_paged):
            at = declared + timedelta(seconds=600 * step + rng.uniform(1, 4))
            timeline.append(
                (
                    Entry(at, Kind.ESCALATION_STEP, BOT, f"step {step + 1}"),
                    {"step": step, "loop": 0},
                )
            )
            timeline.append(
                (
                    Entry(at, Kind.PAGED, BOT, f"paged <@{rota[step]}>"),
                    {"user": rota[step], "step": step, "loop": 0, "via": "synthetic"},
                )
            )
        acked_by = rota[steps_paged - 1]
        drill = rng.random() < 0.05
        incident = Incident(
            id=f"{declared:%Y%m%d}-{n + 1}",
            title=f"{service} {'drill' if drill else 'errors'} #{n + 1}",
            service=service,
            severity=sev,
            declared_by=rota[0],
            declared_at=declared,
            status=Status.RESOLVED,
            drill=drill,
            roles=Roles(commander=rota[0]),
            policy=policy,
            acknowledged_by=acked_by,
            acknowledged_at=declared + timedelta(seconds=round(tta)),
            mitigated_at=declared + timedelta(seconds=round(ttc)),
            resolved_at=declared + timedelta(seconds=round(ttr)),
            resolved_by=rota[0],
            paged=tuple(rota[:steps_paged]),
        )
        out.append((replace(incident, exclude_from_metrics=drill), timeline))
    return out


def synthetic_facts(count: int, until: datetime, days: int = 90, seed: int = 7) -> list[Facts]:
    return [facts(inc, rows) for inc, rows in generate(count, until, days, seed)]
