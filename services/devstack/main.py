"""`make dev`: embedded NATS, PostgreSQL and S3 plus every service, in one terminal.

Each piece of infrastructure is skipped when its URL is given (NATS_URL, DATABASE_URL,
S3_ENDPOINT). State lives under `.dev/` and survives a restart; a service that exits is
restarted with backoff (supervisor.py); Ctrl-C stops every process this started,
services first, then infrastructure. Every service runs in
development mode (`JETSCRIBE_DEV_MODE=true`: the embedded S3's default secret is accepted).
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

from . import infra, postgres
from .supervisor import Child, stop_all, wait_ready

SERVICES = [
    # name, module, health-port env
    ("job-ledger", "services.ledger.main"),
    ("transcriber", "services.transcriber.main"),
    ("converter", "services.converter.main"),
    ("srt-fixer", "services.srt_fixer.main"),
    ("gateway", "services.gateway.main"),
]


def dev_secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def start_infra(root: Path, procs: list[infra.Proc]) -> dict[str, str]:
    """Start what no URL names (each appended to `procs` at once, so a failure stops the
    ones before it); returns the variables that point the services at it."""
    env: dict[str, str] = {}
    if "NATS_URL" not in os.environ:
        procs.append(infra.start_nats(root / "nats" / "jetstream"))
        env["NATS_URL"] = procs[-1].url
    if "DATABASE_URL" not in os.environ:
        procs.append(postgres.start_postgres(root / "postgres" / "data"))
        env["DATABASE_URL"] = procs[-1].url
    if "S3_ENDPOINT" not in os.environ:
        procs.append(infra.start_s3(root / "s3" / "data"))
        env.update(
            S3_ENDPOINT=procs[-1].url,
            S3_ACCESS_KEY=infra.S3_ACCESS_KEY,
            S3_SECRET_KEY=infra.S3_SECRET_KEY,
        )
    for proc in procs:
        print(f"{proc.name:<12}| {proc.url}  (log: {proc.log_path})", flush=True)
    return env


def dev_env(root: Path) -> dict[str, str]:
    """What every service gets in development: dev mode, open webhooks and auth."""
    env: dict[str, str] = {
        "LOG_JSON": os.environ.get("LOG_JSON", "false"),
        "HF_HUB_OFFLINE": "1",
        "ORT_DISABLE_TELEMETRY": "1",
        # Development mode: the embedded S3's development secret is accepted.
        "JETSCRIBE_DEV_MODE": "true",
    }
    # Webhooks: a signing secret kept under .dev/ (stable across restarts), and
    # callbacks to this machine allowed (receivers in development are local).
    if "WEBHOOK_SECRET" not in os.environ:
        env["WEBHOOK_SECRET"] = dev_secret(root / "webhook-secret")
        print(f"{'webhooks':<12}| signed with the secret in {root / 'webhook-secret'}")
    env.setdefault("WEBHOOK_ALLOW_PRIVATE", os.environ.get("WEBHOOK_ALLOW_PRIVATE", "true"))
    # Open mode for development unless keys are given (the gateway warns at start).
    if not (os.environ.get("API_KEYS") or os.environ.get("API_KEYS_FILE")):
        env.setdefault("AUTH_DISABLED", os.environ.get("AUTH_DISABLED", "true"))
    return env


def start_services(env: dict[str, str], port: int, log_dir: Path, children: list[Child]) -> None:
    """Start every service (each appended to `children` at once)."""
    health_ports = {name: infra.free_port() for name, _ in SERVICES}
    for name, module in SERVICES:
        svc_env = {**env, "HEALTH_PORT": str(health_ports[name])}
        ready = f"http://127.0.0.1:{health_ports[name]}/readyz"
        if name == "gateway":
            svc_env.update(PORT=str(port), HEALTH_PORT="0")
            ready = f"http://127.0.0.1:{port}/readyz"
        child = Child(name, module, svc_env, log_dir, ready)
        child.start()
        children.append(child)


def main() -> None:
    root = Path(os.environ.get("DEV_DIR", ".dev")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    log_dir = root / "logs"
    log_dir.mkdir(exist_ok=True)
    port = int(os.environ.get("PORT", "8000"))
    if infra.port_open(port):
        sys.exit(f"port {port} is already in use: set PORT to another one")

    procs: list[infra.Proc] = []
    children: list[Child] = []
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        infra_env = start_infra(root, procs)
        start_services({**dev_env(root), **infra_env}, port, log_dir, children)
        wait_ready(children, timeout=180)
        print(
            f"\njetscribe is ready: open http://127.0.0.1:{port}/ (the web console; API "
            f"docs: http://127.0.0.1:{port}/docs)\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        while not stop.is_set():  # a service that exits is restarted with backoff
            for child in children:
                child.supervise(time.monotonic())
            stop.wait(0.5)
    except infra.InfraError as exc:
        print(f"\nmake dev failed: {exc}", file=sys.stderr, flush=True)
        stop_all(children, procs)
        sys.exit(1)
    print("\nstopping jetscribe…", flush=True)
    stop_all(children, procs)
    print("stopped.", flush=True)


if __name__ == "__main__":
    main()
