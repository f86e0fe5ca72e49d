"""Batches: a parent job whose children are one job per file. Pure.

The children are dispatched at once (parallelism comes from worker replicas). The
parent is `processing` once any child has started, its progress is the children's
mean, and it ends when every child is terminal: `completed` with a `BatchResult`
(a failed child does not fail the batch), `failed` when no child completed and at
least one failed, `cancelled` when every child was cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts import BatchResult, ErrorCode, JobStatus

from .fold import DEFAULT_RETENTION_HOURS, JobState


def child_id(parent_id: UUID, index: int) -> UUID:
    """Deterministic, so a repeated submission never creates a second set of children."""
    return uuid5(NAMESPACE_URL, f"jetscribe:batch:{parent_id}:{index}")


@dataclass(frozen=True)
class Child:
    status: JobStatus
    progress: float


def aggregate(
    parent: JobState, child_ids: list[UUID], children: Mapping[UUID, Child], at: datetime
) -> JobState:
    """The parent's state given its children's."""
    if parent.terminal or not child_ids:
        return parent
    states = [children.get(c, Child(JobStatus.PENDING, 0.0)) for c in child_ids]
    count = {s: sum(1 for c in states if c.status is s) for s in JobStatus}
    done = count[JobStatus.COMPLETED] + count[JobStatus.EXPIRED]
    finished = done + count[JobStatus.FAILED] + count[JobStatus.CANCELLED]
    total = len(child_ids)
    if finished < total:
        started = any(c.status is not JobStatus.PENDING for c in states)
        progress = sum(1.0 if c.status.is_terminal else c.progress for c in states) / total
        return replace(
            parent,
            status=JobStatus.PROCESSING if started else parent.status,
            started_at=parent.started_at or (at if started else None),
            progress=max(parent.progress, round(progress, 4)),
        )
    result = BatchResult(
        total=total,
        completed=done,
        failed=count[JobStatus.FAILED],
        cancelled=count[JobStatus.CANCELLED],
        child_ids=child_ids,
    ).model_dump(mode="json")
    hours = parent.retention_hours or DEFAULT_RETENTION_HOURS
    ended = replace(
        parent,
        progress=1.0,
        result=result,
        started_at=parent.started_at or at,
        finished_at=at,
        ttl_deadline=at + timedelta(hours=hours),
    )
    if done == 0 and count[JobStatus.FAILED] > 0:
        return replace(
            ended,
            status=JobStatus.FAILED,
            error_code=ErrorCode.BATCH_FAILED.value,
            error_message=f"all {total} jobs of the batch failed or were cancelled; "
            f"{count[JobStatus.FAILED]} failed",
        )
    if done == 0:
        return replace(
            ended,
            status=JobStatus.CANCELLED,
            error_code=ErrorCode.CANCELLED.value,
            error_message="every job of the batch was cancelled",
        )
    return replace(ended, status=JobStatus.COMPLETED)
