"""The real service processes (ledger, transcriber, gateway) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from services.common.adapters.s3 import ObjectStore
from services.common.settings import S3Settings
from services.devstack import infra

MODULES = {
    "ledger": "services.ledger.main",
    "transcriber": "services.transcriber.main",
    "converter": "services.converter.main",
    "srt-fixer": "services.srt_fixer.main",
    "gateway": "services.gateway.main",
}


@dataclass
class Service:
    name: str
    env: dict[str, str]
    log_path: Path
    health_url: str
    popen: subprocess.Popen[bytes] | None = None
    module: str | None = None  # default: MODULES[name] (a second replica names its module)
    cwd: Path | None = None  # `python -m` imports from here first (a benchmark's baseline)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", self.module or MODULES[self.name]],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            cwd=self.cwd,
            preexec_fn=infra._die_with_parent,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.popen.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.health_url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else None
        self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.wait_ready()

    def tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    nats_url: str
    database_url: str
    gateway_url: str
    services: dict[str, Service] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def add_replica(self, of: str, name: str) -> Service:
        """Another process of service `of` (its settings, its own health port), started
        and ready; `stop` stops it with the rest."""
        first = self[of]
        port = infra.free_port()
        replica = replace(
            first,
            name=name,
            env={**first.env, "HEALTH_PORT": str(port)},
            log_path=first.log_path.with_name(f"{name}.log"),
            health_url=f"http://127.0.0.1:{port}/readyz",
            popen=None,
            module=first.module or MODULES[of],
        )
        self.services[name] = replica
        replica.start()
        replica.wait_ready()
        return replica

    def stop(self) -> None:
        order = ("gateway", "srt-fixer", "converter", "transcriber", "ledger")
        replicas = [name for name in self.services if name not in order]
        for name in (*replicas, *order):
            if name in self.services:
                self.services[name].stop()

    def logs(self) -> str:
        return "\n\n".join(f"== {s.name}\n{s.tail()}" for s in self.services.values())


def start_stack(
    nats_url: str,
    database_url: str,
    s3_env: dict[str, str],
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
    names: tuple[str, ...] = ("ledger", "transcriber", "converter", "gateway"),
) -> Stack:
    log_dir.mkdir(parents=True, exist_ok=True)
    gateway_port = infra.free_port()
    base = {
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "LOG_JSON": "true",
        "HF_HUB_OFFLINE": "1",
        "ORT_DISABLE_TELEMETRY": "1",
        "AUTH_DISABLED": "true",  # the auth tests give keys and turn it off
        # The test S3 servers run with their well-known development credentials.
        "JETSCRIBE_DEV_MODE": "true",
        "RATE_LIMIT_PER_S": "0",  # likewise the rate cap (tests and benchmarks poll fast)
        **s3_env,
        **(extra_env or {}),
    }
    stack = Stack(nats_url, database_url, f"http://127.0.0.1:{gateway_port}")
    for name in names:
        env = dict(base)
        if name == "gateway":
            env.update(PORT=str(gateway_port), HEALTH_PORT="0")
            health = f"{stack.gateway_url}/readyz"
        else:
            port = infra.free_port()
            env["HEALTH_PORT"] = str(port)
            health = f"http://127.0.0.1:{port}/readyz"
        stack.services[name] = Service(name, env, log_dir / f"{name}.log", health)
    for service in stack.services.values():
        service.start()
    try:
        for service in stack.services.values():
            service.wait_ready()
    except Exception:
        stack.stop()
        raise
    return stack


def object_store(stack: Stack) -> ObjectStore:
    """The bucket the stack's services use, for a test to look into."""
    env = stack["ledger"].env
    return ObjectStore(
        S3Settings(
            s3_endpoint=env["S3_ENDPOINT"],
            s3_access_key=env["S3_ACCESS_KEY"],
            s3_secret_key=env["S3_SECRET_KEY"],  # type: ignore[arg-type]
            s3_bucket=env["S3_BUCKET"],
        )
    )
