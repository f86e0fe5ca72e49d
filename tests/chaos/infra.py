"""NATS, PostgreSQL and S3 as child processes this suite can kill and start again on the
same store, data directory and port (tests/support/infra.py cannot restart them)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.devstack import infra, postgres
from services.devstack.infra import Proc


@dataclass
class Restartable:
    """A server process with a fixed address and store: `crash` it, `start` it again."""

    name: str
    launch: Callable[[], Proc]
    proc: Proc | None = None

    def start(self) -> None:
        if self.proc is None or not self.proc.alive():
            self.proc = self.launch()

    @property
    def url(self) -> str:
        assert self.proc is not None, f"{self.name} never started"
        return self.proc.url

    def crash(self) -> None:
        """SIGKILL the server and everything in its process group (PostgreSQL's backends)."""
        if self.proc is None or not self.proc.alive():
            return
        pid = self.proc.popen.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.popen.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


def nats(root: Path) -> Restartable:
    port, monitor = infra.free_port(), infra.free_port()
    store = root / "nats" / "jetstream"
    return Restartable("nats", lambda: infra.start_nats(store, port=port, monitor_port=monitor))


def pg(root: Path) -> Restartable:
    """Durable settings on purpose: a SIGKILL must not lose commits the ledger saw."""
    port = infra.free_port()
    data = root / "pg" / "data"
    return Restartable(
        "postgres",
        lambda: postgres.start_postgres(data, port=port, database="jetscribe", durable=True),
    )


def s3(root: Path) -> Restartable:
    port = infra.free_port()
    return Restartable("s3", lambda: infra.start_s3(root / "s3" / "data", port=port))


@dataclass
class Infra:
    nats: Restartable
    pg: Restartable
    s3: Restartable

    @classmethod
    def start(cls, root: Path) -> Infra:
        made = cls(nats(root), pg(root), s3(root))
        for server in (made.nats, made.pg, made.s3):
            server.start()
        return made

    def s3_env(self, bucket: str) -> dict[str, str]:
        return {
            "S3_ENDPOINT": self.s3.url,
            "S3_ACCESS_KEY": infra.S3_ACCESS_KEY,
            "S3_SECRET_KEY": infra.S3_SECRET_KEY,
            "S3_BUCKET": bucket,
        }

    def stop(self) -> None:
        for server in (self.s3, self.pg, self.nats):
            with contextlib.suppress(Exception):
                server.stop()
