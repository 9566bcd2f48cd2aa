"""A local Slack for dev, demo and tests: Web API emulator, signed-request driver, Socket Mode hub."""
