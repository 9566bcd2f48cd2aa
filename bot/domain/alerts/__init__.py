"""Alerts in: sources and their routes (`sources`), the senders' payloads (`payloads`), and
how a group of alerts changes when a notification arrives (`groups`). Pure: no HTTP,
Redis, environment or clock."""
