"""Waiting for a job to finish: driven by its events, not by polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

from contracts import JobRecord, JobStatus, streams, subjects
from contracts.raw import event_kind

from .job_reads import fetch_job
from .state import Resources

TERMINAL_KINDS = {"completed", "failed", "cancelled", "expired"}


async def current_job(res: Resources, job_id: UUID, owner: str, wait_s: float) -> JobRecord:
    """The job for a client's read, after waiting up to `wait_s` (capped) if it asks."""
    if wait_s > 0:
        return await wait_for_job(res, job_id, owner, min(wait_s, res.settings.max_wait_s))
    return await fetch_job(res, job_id, owner)


async def wait_for_job(res: Resources, job_id: UUID, owner: str, wait_s: float) -> JobRecord:
    """The job once terminal, or as it stands when `wait_s` runs out.

    Driven by the job's events (a core subscription to `jobs.events.<id>`), not by
    polling. We subscribe first, then read the job; an event published just before we
    subscribed is caught by looking at the last event JetStream holds for the job.
    """
    sub = await res.nc.subscribe(subjects.events_subject(job_id))
    try:
        job = await fetch_job(res, job_id, owner)
        last = await _last_event_kind(res, job_id)
        if not job.status.is_terminal and last in TERMINAL_KINDS:
            job = await settled(res, job_id, owner, job, fetch_job)
        deadline = time.monotonic() + wait_s
        while not job.status.is_terminal:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                msg = await sub.next_msg(timeout=remaining)
            except TimeoutError:
                break
            if event_kind(msg.data) in TERMINAL_KINDS:
                job = await settled(res, job_id, owner, job, fetch_job)
        return job
    finally:
        await sub.unsubscribe()


async def settled(
    res: Resources,
    job_id: UUID,
    owner: str,
    before: JobRecord,
    read: Callable[[Resources, UUID, str], Awaitable[JobRecord]],
    timeout_s: float = 5.0,
) -> JobRecord:
    """The job once the ledger has folded a terminal-looking event it was just sent.

    The ledger folds an event a moment after it is published. Not every such event
    ends the job: a pipeline's first step completing on the top-level job starts the
    next step (the job stays `processing`, its first step turns `completed`).
    """
    deadline = time.monotonic() + timeout_s
    job = before
    while time.monotonic() < deadline:
        job = await read(res, job_id, owner)
        first_step_done = job.steps is not None and job.steps[0].status is JobStatus.COMPLETED
        if job.status.is_terminal or (first_step_done and job != before):
            break
        await asyncio.sleep(0.02)
    return job


async def _last_event_kind(res: Resources, job_id: UUID) -> str | None:
    try:
        last = await res.nc.jetstream().get_last_msg(
            streams.EVENTS_STREAM, subjects.events_subject(job_id)
        )
    except Exception:  # none yet, or JetStream unavailable: the subscription still works
        return None
    return event_kind(last.data or b"")
