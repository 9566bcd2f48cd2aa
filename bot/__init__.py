"""Tocsin: a Slack-first incident escalation bot."""
