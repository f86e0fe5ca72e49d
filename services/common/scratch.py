"""Per-job scratch directories, and what a killed process left of them.

A job's temp files live in a directory that goes with it, whatever happens — except
when the process is SIGKILLed (the OOM killer, `kill -9`), which leaves the directory
behind. The directory's name carries the process id, so a worker starting up removes
those of processes that no longer exist (several replicas may share one directory).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "jetscribe-job-"


def job_scratch(work_dir: Path | None = None) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-", dir=work_dir)


def sweep_leftovers(work_dir: Path | None = None) -> int:
    """Remove the scratch directories of dead processes; returns how many."""
    root = Path(work_dir or tempfile.gettempdir())
    removed = 0
    for path in root.glob(f"{PREFIX}*-*"):
        pid = path.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
