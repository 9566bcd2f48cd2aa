"""The Slack surface: app factory, listeners, payload parsing, message building."""
