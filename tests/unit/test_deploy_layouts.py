"""deploy/: the compose file and the Kubernetes example run what the image and the CLI offer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SENTINEL_ENV = {"REDIS_SENTINELS", "REDIS_SENTINEL_MASTER"}


def runs_tocsin(command: list[str]) -> str:
    """The subcommand `command` runs, after checking the CLI accepts its arguments."""
    assert command[0] == "tocsin"
    return str(_parser().parse_args(command[1:]).command)


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"])


def test_compose_runs_two_webs_behind_one_port_two_workers_and_sentinel_valkey() -> None:
    services = compose()
    roles = {name: runs_tocsin(s["command"]) for name, s in services.items() if "build" in s}
    assert roles == {"web-1": "web", "web-2": "web", "worker-1": "worker", "worker-2": "worker"}
    for name in roles:
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
        assert set(services[name]["environment"]) >= SENTINEL_ENV
    assert services["lb"]["ports"] == ["3000:3000"]
    upstream = re.findall(r"server (\S+):(\d+)", (DEPLOY / "nginx.conf").read_text())
    assert upstream == [("web-1", "3000"), ("web-2", "3000")]
    assert all(services[w]["command"][-1].endswith(":3000") for w in ("web-1", "web-2"))

    primary = services["valkey-primary"]["command"]
    assert primary[primary.index("--appendonly") + 1] == "yes"
    assert primary[primary.index("--maxmemory-policy") + 1] == "noeviction"
    replica = services["valkey-replica"]["command"]
    assert replica[replica.index("--replicaof") + 1] == "valkey-primary"
    sentinels = [s for s in services if s.startswith("sentinel-")]
    assert len(sentinels) == 3
    for name in sentinels:
        script = services[name]["command"][-1]
        assert "sentinel monitor tocsin valkey-primary 6379 2" in script
    master = services["web-1"]["environment"]["REDIS_SENTINEL_MASTER"]
    assert master == "tocsin"


def test_kubernetes_runs_two_webs_and_two_workers_from_one_image() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "tocsin.yaml").read_text()))
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    images, roles = set(), {}
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] == 2
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        images.add(container["image"])
        roles[name] = runs_tocsin(container["command"])
    assert roles == {"tocsin-web": "web", "tocsin-worker": "worker"}
    assert len(images) == 1
    env = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    assert set(env) >= SENTINEL_ENV
    (web,) = deployments["tocsin-web"]["spec"]["template"]["spec"]["containers"]
    assert web["command"][-1].endswith(":3000")
    assert web["ports"][0]["containerPort"] == 3000
    (worker,) = deployments["tocsin-worker"]["spec"]["template"]["spec"]["containers"]
    assert runs_tocsin(worker["livenessProbe"]["exec"]["command"]) == "health"
    service = next(d for d in docs if d["kind"] == "Service")
    assert (
        service["spec"]["selector"] == deployments["tocsin-web"]["spec"]["selector"]["matchLabels"]
    )
