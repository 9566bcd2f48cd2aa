"""`tocsin import pagerduty|opsgenie`: read the exports, write the YAML, check it as `tocsin check`
does, compare it with the rendered schedules, and say what could not be carried over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.config import load_catalog
from bot.importers import opsgenie, pagerduty
from bot.importers.equivalence import differences
from bot.importers.pagerduty import Imported


class _Plain(yaml.SafeDumper):
    """Writes a list shared by several rotations in full each time, not as `&id001` anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _read(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} {path}:{exc.lineno}: not JSON ({exc.msg})") from None


def run_pagerduty(
    policies: Path, schedules: Path, users: Path | None, out_dir: Path, out: TextIO
) -> int:
    """0 when the import matches every rendered schedule given; 1 when one differs."""
    imported = pagerduty.convert(
        _read(policies, "--escalation-policies"),
        _read(schedules, "--schedules"),
        _read(users, "--users") if users else None,
    )
    return _write(imported, "PagerDuty", out_dir, out)


def run_opsgenie(escalations: Path, schedules: Path, out_dir: Path, out: TextIO) -> int:
    imported = opsgenie.convert(
        _read(escalations, "--escalations"), _read(schedules, "--schedules")
    )
    return _write(imported, "Opsgenie", out_dir, out)


def _write(imported: Imported, source: str, out_dir: Path, out: TextIO) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, document in imported.files.items():
        text = yaml.dump(document, Dumper=_Plain, sort_keys=False, allow_unicode=True)
        (out_dir / name).write_text(f"# Imported from {source} by `tocsin import`.\n{text}")
        print(f"wrote {out_dir / name}", file=out)
    catalog = load_catalog(out_dir)  # ConfigError (path:line) if the YAML is not valid
    print(f"{out_dir}: OK for tocsin check", file=out)
    for line in imported.lost:
        print(f"not carried over: {line}", file=out)
    found = []
    for name, entries in sorted(imported.rendered.items()):
        found += differences(catalog.schedules[name], entries)
        if entries:
            first, last = min(e.start for e in entries), max(e.end for e in entries)
            print(
                f"{name}: compared with PagerDuty's rendered schedule {first} to {last}", file=out
            )
    for line in found:
        print(f"differs: {line}", file=out)
    if imported.rendered and not found:
        print("every rendered schedule matches at every instant", file=out)
    return 1 if found else 0
