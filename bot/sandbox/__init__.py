"""A local Slack for dev, demo and tests: Web API emulator, request driver, Socket Mode hub."""
