"""Alerts in: the web side (`intake`: verify, parse, write, enqueue, answer) and the worker
side (`service`: open, join, raise, clear and reopen incidents; the storm; the heartbeat)."""
