"""The one place that builds what a new job is made of: its row, its `RunJob`, its
first event and their outbox messages. Pure (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts import AttachedFile, JobEvent, JobQueued, JobType, RunJob, subjects
from services.common import tracing

from .records import InputFile, JobRow, NewJob, OutboxMessage

PRODUCER = "job-ledger"
"""How the ledger names itself: producer of its events, its queue group, its origin."""


def event_message(event: JobEvent) -> OutboxMessage:
    return OutboxMessage(
        subject=subjects.events_subject(event.job_id),
        msg_id=str(event.event_id),
        payload=event.model_dump_json().encode(),
        headers=tracing.inject() or None,
    )


def run_message(run: RunJob) -> OutboxMessage:
    """The command for a worker, carrying the trace of the request that made it."""
    return OutboxMessage(
        subject=subjects.run_subject(run.type),
        msg_id=f"{run.job_id}:1",
        payload=run.model_dump_json().encode(),
        headers=tracing.inject() or None,
    )


def run_job(job: NewJob, file: InputFile, attachments: list[AttachedFile] | None = None) -> RunJob:
    """The command that has a worker run `job` on `file` (and read `attachments`)."""
    return RunJob(
        job_id=job.id,
        type=JobType(job.type),
        file_id=file.id,
        input_key=file.key,
        input_filename=file.filename,
        options=job.options or {},
        owner=job.owner,
        correlation_id=job.correlation_id,
        attachments=attachments or [],
    )


@dataclass
class PlannedJob:
    """A job ready to be written: its row, first events and outbox messages."""

    new: NewJob
    events: list[JobEvent] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    cache_source: JobRow | None = None  # a cache hit: served from this job's outputs


def pending(
    job: NewJob,
    file: InputFile | None,
    *,
    dispatch: bool = True,
    attachments: list[AttachedFile] | None = None,
) -> PlannedJob:
    """A new pending job: `queued`, and its command when it is to run on a worker now
    (`file` given and `dispatch`: not a batch parent, not a cache hit)."""
    queued = JobQueued(
        job_id=job.id,
        type=JobType(job.type),
        producer=PRODUCER,
        correlation_id=job.correlation_id,
    )
    outbox = [event_message(queued)]
    if file is not None and dispatch:
        outbox.append(run_message(run_job(job, file, attachments)))
    return PlannedJob(job, [queued], outbox)


def step_settings(parent: Any) -> dict[str, Any]:
    """What a job made by another (a pipeline step) inherits from it."""
    return {
        "owner": parent.owner,
        "correlation_id": parent.correlation_id,
        "retention_hours": parent.retention_hours,
        "delete_after_retrieval": parent.delete_after_retrieval,
    }
