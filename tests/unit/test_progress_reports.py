"""Which jobs of a batch only report progress, and what their reports sum up to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from contracts import JobCompleted, JobProgressed, TranscribeResult
from services.ledger.progress_reports import ProgressReport, split

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def progress(job_id: uuid.UUID, value: float, second: int, attempt: int = 1) -> JobProgressed:
    return JobProgressed(
        job_id=job_id, progress=value, attempt=attempt, occurred_at=T0 + timedelta(seconds=second)
    )


def test_a_jobs_reports_become_one_with_the_highest_value_and_the_earliest_time() -> None:
    job = uuid.uuid4()
    reports, rest = split([progress(job, 0.4, 5), progress(job, 0.2, 2), progress(job, 0.3, 9)])
    assert reports == [ProgressReport(job, 1, 0.4, T0 + timedelta(seconds=2))]
    assert rest == []


def test_jobs_with_other_events_or_several_attempts_are_left_whole_for_the_planner() -> None:
    ended, retried, plain = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    result = TranscribeResult(
        text="", language="en", language_probability=1, duration_s=1, segments=[]
    )
    events = [
        progress(ended, 0.5, 1),
        JobCompleted(job_id=ended, result=result),
        progress(retried, 0.9, 1, attempt=1),
        progress(retried, 0.1, 2, attempt=2),
        progress(plain, 0.7, 3),
    ]
    reports, rest = split(events)
    assert [r.job_id for r in reports] == [plain]
    assert rest == events[:4]
