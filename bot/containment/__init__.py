"""Containment actions from runbooks: buttons that send signed webhooks, and their runs."""
