"""Per-job scratch directories, and what a killed process left of them.

A job's temp files live in a directory that goes with it, whatever happens — except
when the process is SIGKILLed (the OOM killer, `kill -9`), which leaves the directory
behind. The directory's name carries the process's id and start time, so a worker
starting up removes those of processes that no longer run — including its own
predecessor in a restarted container, which had the same pid (1) but another start
time. The work directory must not be shared across PID namespaces (in Kubernetes: one
`emptyDir` per pod, as the manifests do).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "jetscribe-job-"


def job_scratch(work_dir: Path | None = None) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{_identity(os.getpid())}-", dir=work_dir)


def sweep_leftovers(work_dir: Path | None = None) -> int:
    """Remove the scratch directories of processes that no longer run; returns how many."""
    root = Path(work_dir or tempfile.gettempdir())
    removed = 0
    for path in root.glob(f"{PREFIX}*-*"):
        owner = path.name[len(PREFIX) :].split("-", 1)[0]
        pid = owner.partition(".")[0]
        if pid.isdigit() and _identity(int(pid)) != owner:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _identity(pid: int) -> str:
    """`pid.start-time` of a running process, `pid.0` without /proc; "" if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "" if Path("/proc/self").exists() or not _alive(pid) else f"{pid}.0"
    except OSError:
        return f"{pid}.0"
    # Field 22 (start time); the command name (field 2) may hold spaces: split after ")".
    return f"{pid}.{stat.rsplit(')', 1)[1].split()[19]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
