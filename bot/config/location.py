"""Which config directory is in use: the one named (TOCSIN_CONFIG_DIR, e.g. a volume mounted
at /config), or, while it holds no YAML file, the fallback (TOCSIN_CONFIG_FALLBACK, e.g. the
examples baked into the image). Asked again on every reload, so mounting or filling the
volume later switches to it, and emptying it falls back."""

from __future__ import annotations

import os
from pathlib import Path

from bot.config.loader import SUFFIXES


def has_config(directory: Path) -> bool:
    """Whether `directory` holds at least one YAML file (dotfiles do not count)."""
    try:
        with os.scandir(directory) as entries:
            return any(
                Path(e.name).suffix.lower() in SUFFIXES
                and not e.name.startswith(".")
                and e.is_file()
                for e in entries
            )
    except OSError:  # missing, not a directory, unreadable
        return False


def config_dir_in_use(primary: Path, fallback: Path | None) -> Path:
    """`primary` when it holds config; else `fallback` when there is one; else `primary`
    (so that its errors name the directory that was asked for)."""
    if fallback is not None and not has_config(primary):
        return fallback
    return primary
