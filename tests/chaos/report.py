"""results.md: the definitions, the machine, the command, and one row per scenario."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .measure import RowResult

HEADER = """# Fault suite results

Written by `{command}` on {date}.

Machine: {machine}.

Each row runs on its own NATS, PostgreSQL and S3 server processes and the real service
processes (tests/chaos/world.py), with N jobs in flight when the fault hits. Every number
comes from the system's own records after the recovery deadline:

- **submitted**: jobs the system accepted (gateway `202`, or JetStream-acked on
  `jobs.submit`); **completed** / **failed**: their status in the ledger's `jobs` table.
- **lost**: submitted jobs not terminal (or with no row at all) at the recovery deadline.
- **run twice**: jobs with more than one terminal event (`completed`, `failed`,
  `cancelled`; distinct event ids) in the JOB_EVENTS stream (`jobs.events.<job_id>`), or a
  `started` event stored after the job's first terminal event. A run that started and
  died with its worker (SIGKILL), with no terminal event, is a restart, not a second run
  (counted in the notes).
- **dup outputs**: objects under `jobs/<job_id>/` in the bucket that are not among the
  job's outputs (the ledger's `files` rows of the job and the keys its `completed` events
  name: outputs, and `full_result` for a result stored by reference).
- **events JS / PG**: distinct event ids of the jobs' valid events in JOB_EVENTS vs rows
  of the ledger's `job_events` table; **missing** = in JetStream, not in PostgreSQL.
  Messages that are no valid event (poison) are left out.
- **first done / all terminal**: seconds from the end of the fault (server or service
  back) to the first `completed` event after it (by the events' `occurred_at`; "—": every
  job finished during the fault), and until the ledger's `jobs` table showed every job
  terminal (polled every 0.25 s).
- Rows with PostgreSQL or the ledger away also publish 3 `SubmitJob`s straight on
  `jobs.submit` during the outage (the upstream path); they count in N.
- **poison left** (poison row): messages still in the JOBS stream plus unacked or
  undelivered messages of the ledger's events consumer, after the good jobs finished and
  a settling wait.
- **pass**: 0 lost, 0 run twice, 0 dup outputs, 0 missing events, 0 failed (every job in
  these rows is valid and should complete), no poison left.

"""


COLUMNS = [
    "row",
    "N",
    "completed",
    "failed",
    "lost",
    "run twice",
    "dup outputs",
    "events JS / PG (missing)",
    "first done s",
    "all terminal s",
    "row s",
    "pass",
    "notes",
]


def table_head() -> str:
    return "| " + " | ".join(COLUMNS) + " |\n" + "|---" * len(COLUMNS) + "|\n"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def line(r: RowResult) -> str:
    if r.error is not None:
        return f"| {r.row} | | | | | | | | | | {r.seconds:.0f} | ERROR | {r.error} |"
    notes = list(r.notes)
    if r.poison_left is not None:
        notes.insert(0, f"poison left: {r.poison_left}")
    cells = [
        r.row,
        str(r.submitted),
        str(r.completed),
        str(r.failed),
        str(r.lost),
        str(r.run_twice),
        str(r.duplicate_outputs),
        f"{r.events_js} / {r.events_pg} ({r.events_missing})",
        _num(r.first_completion_s),
        _num(r.all_terminal_s),
        f"{r.seconds:.0f}",
        "pass" if r.passed else "**FAIL**",
        "; ".join(notes).replace("|", "/"),
    ]
    return "| " + " | ".join(cells) + " |"


def machine() -> str:
    parts = [f"{os.cpu_count()} CPUs", platform.platform(), f"Python {platform.python_version()}"]
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        parts.insert(1, f"{mem_kb / 1024 / 1024:.0f} GiB RAM")
    except (OSError, ValueError, IndexError):
        pass
    nats_bin = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
    try:
        out = subprocess.run([nats_bin, "--version"], capture_output=True, text=True, check=False)
        parts.append(out.stdout.strip() or "nats-server ?")
    except OSError:
        pass
    parts.append("no GPU (Whisper base int8 on CPU)")
    return ", ".join(parts)


def write(path: Path, results: list[RowResult], command: str, extra: str = "") -> None:
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = HEADER.format(command=command, date=date, machine=machine()) + table_head()
    text += "\n".join(line(r) for r in results) + "\n"
    if extra:
        text += "\n" + extra.strip() + "\n"
    path.write_text(text)
