"""The outside services a config directory defines (`services.yaml`, bot.config.services),
for the methods that reach them (bot.notify.pagerduty, bot.notify.webhook)."""

from __future__ import annotations

import os
from pathlib import Path

from bot.config.loader import config_files, display_path
from bot.config.services import ServicesFile
from bot.config.validate import Checked, Kind, check_file
from bot.config.yamlmap import YamlProblem, load_yaml
from bot.domain.services import OutsideServices, PagerDutyService, WebhookService


def services_of(checked: list[Checked]) -> OutsideServices:
    """The outside services of files that passed every check (the first definition wins;
    `tocsin check` refuses a second one)."""
    pagerduty: dict[str, PagerDutyService] = {}
    webhooks: dict[str, WebhookService] = {}
    for c in checked:
        if isinstance(c.model, ServicesFile):
            found = c.model.to_services()
            for name, pd in found.pagerduty.items():
                pagerduty.setdefault(name, pd)
            for name, hook in found.webhooks.items():
                webhooks.setdefault(name, hook)
    return OutsideServices(pagerduty, webhooks)


def load_services(directory: str | os.PathLike[str]) -> OutsideServices:
    """The outside services defined in `directory`'s services files; a file that does not
    validate is skipped (`tocsin check` and the loader report it)."""
    checked: list[Checked] = []
    for path in config_files(Path(directory)):
        try:
            loaded = load_yaml(path.read_text(encoding="utf-8-sig"), display_path(path))
        except (OSError, UnicodeDecodeError, YamlProblem):
            continue
        one, _ = check_file(display_path(path), loaded)
        if one is not None and one.kind is Kind.SERVICES:
            checked.append(one)
    return services_of(checked)
