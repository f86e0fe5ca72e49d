"""The embedded PostgreSQL of `make dev` and the tests: the machine's server binaries,
run as an unprivileged user when we are root (initdb refuses root)."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from .infra import InfraError, Proc, free_port, spawn, wait_until

PG_USER = "jetscribe"


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
        _initdb(bindir, pgdata, log_path, user)
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


def _initdb(bindir: Path, pgdata: Path, log_path: Path, user: str | None) -> None:
    argv = [str(bindir / "initdb"), "-D", str(pgdata), "-U", PG_USER, "--auth=trust"]
    argv += ["-E", "UTF8", "--no-instructions"]
    init = spawn("initdb", argv, log_path, user=user, cwd=pgdata)
    if init.wait(120) != 0:
        raise InfraError(f"initdb failed, see {log_path}")


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
