"""Pure domain code: no Slack, Redis, environment or clock access."""
