"""The `make dev` supervisor: start each service, wait until it is ready, and restart
one that exits with backoff — as Kubernetes would — saying so in the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import infra

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # after the n-th crash in a row
STEADY_S = 60.0  # up this long: the next crash starts the backoff again


def _pump(name: str, stream: object, log_path: Path) -> None:
    width = 12
    with log_path.open("ab") as log:
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            log.write(line)
            log.flush()
            sys.stdout.write(f"{name:<{width}}| {line.decode(errors='replace')}")
            sys.stdout.flush()


def say(name: str, text: str) -> None:
    print(f"{name:<12}| {text}", flush=True)


@dataclass
class Child:
    """One service process and how to start it again."""

    name: str
    module: str
    env: dict[str, str]
    log_dir: Path
    ready_url: str
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    crashes: int = 0  # in a row
    restart_at: float | None = None
    restarts: int = 0

    def start(self) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", self.module],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            preexec_fn=infra._die_with_parent,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        threading.Thread(
            target=_pump,
            args=(self.name, self.popen.stdout, self.log_dir / f"{self.name}.log"),
            daemon=True,
        ).start()

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None

    def supervise(self, now: float) -> None:
        """Restart the process if it exited, once its backoff has passed."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restart_at = None
                self.restarts += 1
                say(self.name, f"restarting (restart {self.restarts})")
                self.start()
            return
        code = self.exit_code()
        if code is None:
            return
        if now - self.started_at >= STEADY_S:
            self.crashes = 0
        delay = BACKOFF_S[min(self.crashes, len(BACKOFF_S) - 1)]
        self.crashes += 1
        self.restart_at = now + delay
        say(self.name, f"exited with {code}; restarting in {delay:g} s")

    def stop(self) -> None:
        self.restart_at = None
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        if self.popen is None:
            return
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()


def wait_ready(children: list[Child], timeout: float) -> None:
    """Every child ready in time; one that exits before it is ready stops `make dev`
    (a configuration error would only crash again). One that was ready and exits while
    the others start is restarted as it would be later."""
    deadline = time.monotonic() + timeout
    pending = list(children)
    while pending and time.monotonic() < deadline:
        for child in children:
            if child not in pending:
                child.supervise(time.monotonic())
        for child in list(pending):
            code = child.exit_code()
            if code is not None:
                raise infra.InfraError(f"{child.name} exited with {code}")
            try:
                if httpx.get(child.ready_url, timeout=1.0).status_code == 200:
                    pending.remove(child)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    if pending:
        raise infra.InfraError(f"not ready after {timeout:.0f}s: {[c.name for c in pending]}")


def stop_all(children: list[Child], procs: list[infra.Proc]) -> None:
    for child in reversed(children):
        child.stop()
    for child in reversed(children):
        child.wait(30)
    for proc in reversed(procs):
        proc.stop()
