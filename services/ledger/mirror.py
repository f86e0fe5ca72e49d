"""Events for jobs whose state moves because of other jobs. Pure.

A pipeline's top-level job follows its later steps and a batch parent follows its
children; the ledger folds those moves directly. So that whoever follows
`jobs.events.<job_id>` (SSE, `?wait=`, upstream systems) sees them too, the ledger
publishes an event that says what changed.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import TypeAdapter

from contracts import (
    ErrorInfo,
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobProgressed,
    JobResult,
    JobStarted,
    JobStatus,
)

from .builders import PRODUCER
from .fold import JobState

_RESULT: TypeAdapter[JobResult] = TypeAdapter(JobResult)


def events_for(job_id: UUID, before: JobState, after: JobState) -> list[JobEvent]:
    """The events that take a follower from `before` to `after` (empty if nothing moved)."""
    common = {"job_id": job_id, "attempt": after.attempt, "producer": PRODUCER}
    out: list[JobEvent] = []
    if before.status is JobStatus.PENDING and after.status is not JobStatus.PENDING:
        out.append(JobStarted(**common, worker=PRODUCER))
    if after.status is JobStatus.PROCESSING and after.progress > before.progress:
        out.append(JobProgressed(**common, progress=min(after.progress, 1.0)))
    if after.status == before.status:
        return out
    error = ErrorInfo(code=after.error_code or "", message=after.error_message or "")
    result = _RESULT.validate_python(after.result) if after.result else None
    match after.status:
        case JobStatus.COMPLETED if result is not None:
            out.append(JobCompleted(**common, result=result, language=after.language))
        case JobStatus.FAILED:
            out.append(JobFailed(**common, error=error, result=result))
        case JobStatus.CANCELLED:
            out.append(JobCancelled(**common, reason=after.error_message))
    return out
