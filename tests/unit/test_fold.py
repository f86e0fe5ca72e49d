"""Folding events into job state under at-least-once, out-of-order delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts import (
    ErrorInfo,
    JobCancelled,
    JobCompleted,
    JobExpired,
    JobFailed,
    JobProgressed,
    JobRequeued,
    JobStarted,
    JobStatus,
    TranscribeResult,
)
from services.ledger.fold import JobState, fold

JOB = uuid4()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def completed(attempt: int = 1, when: float = 10) -> JobCompleted:
    return JobCompleted(
        job_id=JOB,
        attempt=attempt,
        occurred_at=at(when),
        language="en",
        result=TranscribeResult(
            text="x", language="en", language_probability=1, duration_s=1, segments=[]
        ),
    )


def run(*events: object, state: JobState | None = None) -> JobState:
    state = state or JobState(status=JobStatus.PENDING)
    for event in events:
        state = fold(state, event)  # type: ignore[arg-type]
    return state


def test_a_job_moves_pending_processing_completed() -> None:
    state = run(
        JobStarted(job_id=JOB, occurred_at=at(1)),
        JobProgressed(job_id=JOB, progress=0.5, occurred_at=at(2)),
        completed(),
    )
    assert state.status is JobStatus.COMPLETED
    assert state.progress == 1.0
    assert state.started_at == at(1)
    assert state.finished_at == at(10)
    assert state.language == "en"


def test_late_events_never_move_a_finished_job_backwards() -> None:
    state = run(
        completed(),
        JobStarted(job_id=JOB, occurred_at=at(1)),
        JobProgressed(job_id=JOB, progress=0.3, occurred_at=at(2)),
    )
    assert state.status is JobStatus.COMPLETED
    assert state.progress == 1.0


def test_progress_never_goes_down_within_an_attempt() -> None:
    state = run(JobProgressed(job_id=JOB, progress=0.8), JobProgressed(job_id=JOB, progress=0.4))
    assert state.progress == 0.8
    assert state.status is JobStatus.PROCESSING


def test_a_retry_returns_the_job_to_pending_with_the_next_attempt() -> None:
    state = run(
        JobStarted(job_id=JOB),
        JobProgressed(job_id=JOB, progress=0.6),
        JobRequeued(
            job_id=JOB, attempt=2, error=ErrorInfo(code="storage_unavailable", message="down")
        ),
    )
    assert (state.status, state.attempt, state.progress) == (JobStatus.PENDING, 2, 0.0)


def test_events_of_an_older_attempt_are_ignored() -> None:
    state = run(
        JobRequeued(job_id=JOB, attempt=2, error=ErrorInfo(code="x", message="y")),
        JobStarted(job_id=JOB, attempt=2),
        JobProgressed(job_id=JOB, attempt=1, progress=0.9),
    )
    assert state.attempt == 2
    assert state.progress == 0.0


def test_the_first_terminal_event_wins() -> None:
    state = run(
        JobFailed(job_id=JOB, error=ErrorInfo(code="unreadable_media", message="bad")), completed()
    )
    assert state.status is JobStatus.FAILED
    assert state.error_code == "unreadable_media"


def test_cancel_is_terminal_and_records_the_reason() -> None:
    state = run(JobStarted(job_id=JOB), JobCancelled(job_id=JOB, reason="user"), completed())
    assert state.status is JobStatus.CANCELLED
    assert state.error_code == "cancelled"


def test_expiry_only_follows_a_terminal_state() -> None:
    assert run(JobExpired(job_id=JOB)).status is JobStatus.PENDING
    assert run(completed(), JobExpired(job_id=JOB)).status is JobStatus.EXPIRED


def test_the_ttl_deadline_is_finish_plus_retention() -> None:
    state = run(completed(when=0), state=JobState(status=JobStatus.PENDING, retention_hours=2))
    assert state.ttl_deadline == T0 + timedelta(hours=2)
    default = run(completed(when=0))
    assert default.ttl_deadline == T0 + timedelta(hours=24)
