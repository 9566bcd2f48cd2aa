"""Acknowledgements from outside Slack: verified provider webhooks turned into engine commands."""
