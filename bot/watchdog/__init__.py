"""Who watches the watcher: `tocsin web` notices when the workers are gone and pages itself.

`observe.py` decides from Redis whether the escalation path is down (no scheduler lease, or no
worker heartbeat, for TOCSIN_WATCHDOG_AFTER_S); `webhook.py` sends the HMAC-signed POST;
`thread.py` runs both in each web process; `announce.py` sends "down" and "recovered" once
per outage to each destination (the webhooks, TOCSIN_WATCHDOG_PAGERDUTY and
TOCSIN_WATCHDOG_CHANNEL), a crash mid-send included.
"""
