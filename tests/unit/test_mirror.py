"""Events the ledger publishes for jobs moved by other jobs (pure)."""

from __future__ import annotations

import uuid

from contracts import JobCancelled, JobCompleted, JobFailed, JobProgressed, JobStarted, JobStatus
from services.ledger.fold import JobState
from services.ledger.mirror import events_for

JOB = uuid.uuid4()
BATCH_RESULT = {
    "type": "batch",
    "total": 1,
    "completed": 1,
    "failed": 0,
    "cancelled": 0,
    "child_ids": [str(uuid.uuid4())],
}


def test_nothing_moved_means_no_event() -> None:
    state = JobState(status=JobStatus.PROCESSING, progress=0.5)
    assert events_for(JOB, state, state) == []


def test_a_start_and_progress() -> None:
    before = JobState(status=JobStatus.PENDING)
    after = JobState(status=JobStatus.PROCESSING, progress=0.4)
    events = events_for(JOB, before, after)
    assert [type(e) for e in events] == [JobStarted, JobProgressed]
    assert events[1].progress == 0.4 and all(e.job_id == JOB for e in events)


def test_completion_carries_the_result() -> None:
    before = JobState(status=JobStatus.PROCESSING, progress=0.5)
    after = JobState(status=JobStatus.COMPLETED, progress=1.0, result=BATCH_RESULT)
    (event,) = events_for(JOB, before, after)
    assert isinstance(event, JobCompleted)
    assert event.result.model_dump(mode="json")["completed"] == 1


def test_failure_and_cancellation_carry_their_reason() -> None:
    before = JobState(status=JobStatus.PROCESSING)
    failed = JobState(
        status=JobStatus.FAILED,
        error_code="batch_failed",
        error_message="all failed",
        result=BATCH_RESULT,
    )
    (event,) = events_for(JOB, before, failed)
    assert isinstance(event, JobFailed) and event.error.code == "batch_failed"
    assert event.result is not None
    cancelled = JobState(status=JobStatus.CANCELLED, error_message="cancelled by client")
    (event2,) = events_for(JOB, before, cancelled)
    assert isinstance(event2, JobCancelled) and event2.reason == "cancelled by client"
