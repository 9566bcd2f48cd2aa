"""On-call life: schedule changes made from Slack, layered over the YAML schedules."""
