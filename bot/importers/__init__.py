"""Importers: other tools' exported schedules and escalation policies as Tocsin YAML."""
