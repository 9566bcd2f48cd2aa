"""Configuration as code: load and validate `escalation_policies/` with path:line errors."""

from bot.config.check import run_check
from bot.config.loader import load_catalog
from bot.config.problems import ConfigError, Problem
from bot.config.schema import json_schema

__all__ = ["ConfigError", "Problem", "json_schema", "load_catalog", "run_check"]
