# One image for both processes: `tocsin web` and `tocsin worker` (see Procfile).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && useradd --system --uid 10001 tocsin

COPY escalation_policies ./escalation_policies
COPY runbooks ./runbooks
# `tocsin doctor` compares the manifest's bot scopes with those the token was granted.
COPY slack-app-manifest.yaml ./
RUN tocsin check escalation_policies && mkdir /config
# Config comes from a volume mounted at /config (docker run -v ./escalation_policies:/config),
# reloaded when its files change; while /config holds no YAML file the examples baked in above
# are used.
ENV TOCSIN_CONFIG_DIR=/config TOCSIN_CONFIG_FALLBACK=/app/escalation_policies

USER tocsin
EXPOSE 3000
# Web: /healthz answers. Worker (no HTTP): its heartbeat in Redis is fresh. `tocsin health`
# tells the two apart by the container's main process (or pass --web / --worker).
HEALTHCHECK --interval=30s --timeout=10s CMD ["tocsin", "health"]
# Needs REDIS_URL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET. Run the worker with: tocsin worker
CMD ["tocsin", "web", "--bind", "0.0.0.0:3000"]
