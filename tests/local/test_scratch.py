"""Scratch directories a SIGKILLed worker left behind are removed when a worker starts;
those of live processes are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.scratch import PREFIX, job_scratch, sweep_leftovers

pytestmark = pytest.mark.local


def test_only_the_scratch_of_dead_processes_is_swept(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{PREFIX}{int(gone.stdout)}.12345-abc"
    (dead / "input").mkdir(parents=True)
    # Our own pid, another start time: a restarted container's PID 1 finding its
    # predecessor's directory.
    predecessor = tmp_path / f"{PREFIX}{os.getpid()}.1-def"
    predecessor.mkdir()
    live = job_scratch(tmp_path)
    unrelated = tmp_path / "someone-elses-dir"
    unrelated.mkdir()
    try:
        assert Path(live.name).name.startswith(f"{PREFIX}{os.getpid()}.")
        assert sweep_leftovers(tmp_path) == 2
        assert not dead.exists() and not predecessor.exists()
        assert Path(live.name).exists() and unrelated.exists()
    finally:
        live.cleanup()
