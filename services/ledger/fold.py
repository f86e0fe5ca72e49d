"""Folding events into a job's state: pure logic, no I/O.

Rules that keep the ledger correct under at-least-once, out-of-order delivery:
- a terminal status (completed, failed, cancelled) is final; only `expired` follows it;
- an event from an older attempt than the job's current one changes nothing;
- progress never goes down within an attempt;
- the first timestamp wins for `started_at`; `finished_at` is set once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from contracts import (
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobExpired,
    JobFailed,
    JobProgressed,
    JobQueued,
    JobRequeued,
    JobStarted,
    JobStatus,
)

DEFAULT_RETENTION_HOURS = 24.0


@dataclass(frozen=True)
class JobState:
    status: JobStatus
    attempt: int = 1
    progress: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    language: str | None = None
    output_file_ids: tuple[UUID, ...] = field(default_factory=tuple)
    retention_hours: float | None = None
    ttl_deadline: datetime | None = None
    steps: list[dict[str, Any]] | None = None  # pipelines only: see pipelines.py
    model: str | None = None  # what produced the result (the result cache matches on it)

    @property
    def terminal(self) -> bool:
        return self.status.is_terminal


def _finish(state: JobState, at: datetime, **changes: Any) -> JobState:
    hours = state.retention_hours or DEFAULT_RETENTION_HOURS
    return replace(state, finished_at=at, ttl_deadline=at + timedelta(hours=hours), **changes)


def fold(state: JobState, event: JobEvent) -> JobState:
    # long: one case per event kind, side by side, is how these rules are checked.
    """Return the state after `event`; unchanged if the event is stale or redundant."""
    if isinstance(event, JobExpired):
        return replace(state, status=JobStatus.EXPIRED) if state.terminal else state
    if state.terminal or event.attempt < state.attempt:
        return state

    match event:
        case JobQueued():
            return state
        case JobStarted():
            return replace(
                state,
                status=JobStatus.PROCESSING,
                attempt=event.attempt,
                progress=0.0 if event.attempt > state.attempt else state.progress,
                started_at=state.started_at or event.occurred_at,
            )
        case JobProgressed():
            newer = event.attempt > state.attempt
            return replace(
                state,
                status=JobStatus.PROCESSING,
                attempt=event.attempt,
                progress=event.progress if newer else max(state.progress, event.progress),
                started_at=state.started_at or event.occurred_at,
            )
        case JobRequeued():
            if event.attempt <= state.attempt and state.status is JobStatus.PENDING:
                return state
            return replace(
                state,
                status=JobStatus.PENDING,
                attempt=max(state.attempt, event.attempt),
                progress=0.0,
                error_code=event.error.code,
                error_message=event.error.message,
            )
        case JobCompleted():
            return _finish(
                state,
                event.occurred_at,
                status=JobStatus.COMPLETED,
                attempt=event.attempt,
                progress=1.0,
                started_at=state.started_at or event.occurred_at,
                result=event.result.model_dump(mode="json"),
                language=event.language or state.language,
                output_file_ids=tuple(o.id for o in event.outputs),
                error_code=None,
                error_message=None,
                model=event.model,
            )
        case JobFailed():
            return _finish(
                state,
                event.occurred_at,
                status=JobStatus.FAILED,
                attempt=event.attempt,
                error_code=event.error.code,
                error_message=event.error.message,
                result=event.result.model_dump(mode="json") if event.result else state.result,
            )
        case JobCancelled():
            return _finish(
                state,
                event.occurred_at,
                status=JobStatus.CANCELLED,
                error_code="cancelled",
                error_message=event.reason or "cancelled",
            )
    return state
