"""Before a worker runs a command: is it one to run at all?

- An input key that could leave the media bucket's layout (`..`, an absolute path, not
  under `files/` or `jobs/`) is a bad command: it fails at once, never retried.
- The ledger's word on the job: one it never created is dropped (terminated, nothing
  written); one already terminal (completed, failed, cancelled, expired) is not run
  again — a command re-sent or redelivered after its job ended is acked and skipped.
  The ledger is asked with a short timeout; when it does not answer, the job runs
  (cancel is also watched while it runs, and its events stay idempotent).
- The events stream's word, asked next because the ledger may not have folded the
  latest events yet (it was down, or a worker's outcome reached JetStream while the
  worker thought its publish failed): a job whose last event is terminal is not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from uuid import UUID

from nats.aio.client import Client
from nats.js import JetStreamContext

from contracts import (
    TERMINAL_KINDS,
    ErrorCode,
    JobGetRequest,
    JobResponse,
    RunJob,
    raw,
    streams,
    subjects,
)

LEDGER_TIMEOUT_S = 2.0
KEY_ROOTS = ("files", "jobs")


@dataclass(frozen=True)
class Skip:
    reason: str
    terminate: bool  # True: never deliverable (term); False: done already (ack)


def input_key_problem(key: str) -> str | None:
    """Why `key` is not an input key of ours, or None."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or ".." in parts or parts[0] not in KEY_ROOTS:
        return f"input_key {key[:200]!r} is not an object key of the media bucket"
    return None


async def ledger_says_skip(nc: Client, run: RunJob) -> Skip | None:
    try:
        reply = await nc.request(
            subjects.LEDGER_JOBS_GET,
            JobGetRequest(job_id=run.job_id, owner=run.owner).model_dump_json().encode(),
            timeout=LEDGER_TIMEOUT_S,
        )
        answer = JobResponse.model_validate_json(reply.data)
    except Exception:
        return None  # the ledger is away: run (see the module's docstring)
    if answer.job is None:
        unknown = answer.error is not None and answer.error.code == ErrorCode.JOB_NOT_FOUND
        return Skip("the ledger has no such job", terminate=True) if unknown else None
    if answer.job.status.is_terminal:
        return Skip(f"the job is already {answer.job.status.value}", terminate=False)
    return None


async def stream_says_done(js: JetStreamContext, job_id: UUID) -> Skip | None:
    """Skip when the job's last event in the events stream is terminal."""
    try:
        last = await js.get_last_msg(streams.EVENTS_STREAM, subjects.events_subject(job_id))
    except Exception:
        return None  # no event yet, or the stream is away: the ledger's answer stands
    kind = raw.event_kind(last.data or b"")
    if kind in TERMINAL_KINDS:
        return Skip(f"the job's {kind} event is stored already", terminate=False)
    return None
