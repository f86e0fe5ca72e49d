"""A batch parent's state from its children's (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts import JobStatus
from services.ledger.batches import Child, aggregate, child_id
from services.ledger.fold import JobState

NOW = datetime(2026, 1, 1, tzinfo=UTC)
P, C, F, X = JobStatus.PENDING, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED


def batch(statuses: list[JobStatus], progress: float = 0.0) -> JobState:
    parent = uuid.uuid4()
    ids = [child_id(parent, i) for i in range(len(statuses))]
    children = {i: Child(s, progress) for i, s in zip(ids, statuses, strict=True)}
    return aggregate(JobState(status=JobStatus.PENDING), ids, children, NOW)


def test_child_ids_are_stable_and_distinct() -> None:
    parent = uuid.uuid4()
    assert child_id(parent, 0) == child_id(parent, 0) != child_id(parent, 1)
    assert child_id(parent, 0) != child_id(uuid.uuid4(), 0)


def test_a_batch_waits_pending_until_a_child_starts() -> None:
    assert batch([P, P]).status is JobStatus.PENDING


def test_a_running_batch_shows_the_mean_progress() -> None:
    state = batch([JobStatus.PROCESSING, C], progress=0.5)
    assert state.status is JobStatus.PROCESSING
    assert state.progress == pytest.approx(0.75)
    assert state.started_at == NOW and state.finished_at is None


@pytest.mark.parametrize(
    ("children", "status", "counts"),
    [
        ([C] * 5, JobStatus.COMPLETED, (5, 0, 0)),
        ([C, C, C, C, F], JobStatus.COMPLETED, (4, 1, 0)),
        ([C, X], JobStatus.COMPLETED, (1, 0, 1)),
        ([F, F], JobStatus.FAILED, (0, 2, 0)),
        ([F, X], JobStatus.FAILED, (0, 1, 1)),
        ([X, X], JobStatus.CANCELLED, (0, 0, 2)),
    ],
)
def test_a_batch_ends_when_every_child_has(
    children: list[JobStatus], status: JobStatus, counts: tuple[int, int, int]
) -> None:
    state = batch(children)
    assert state.status is status
    assert state.result is not None
    r = state.result
    assert (r["completed"], r["failed"], r["cancelled"]) == counts
    assert r["total"] == len(children) and len(r["child_ids"]) == len(children)
    assert state.progress == 1.0 and state.finished_at == NOW and state.ttl_deadline
    assert (state.error_code == "batch_failed") is (status is JobStatus.FAILED)


def test_a_finished_batch_never_changes() -> None:
    done = JobState(status=JobStatus.CANCELLED)
    assert aggregate(done, [uuid.uuid4()], {}, NOW) is done
