"""Progress-only jobs are folded in one SQL statement (services/ledger/progress_reports.py):
it must move a job exactly as fold.py does, whatever the history, and hand batch
children and pipeline jobs back to the planner."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

from contracts import (
    ErrorInfo,
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobGetRequest,
    JobProgressed,
    JobRequeued,
    JobStarted,
    JobStatus,
    SubmitJob,
    TranscribeResult,
)
from services.ledger.fold import JobState, fold
from tests.connected.conftest import LedgerFixture, register

RESULT = TranscribeResult(text="", language="en", language_probability=1, duration_s=1, segments=[])


def random_event(rng: random.Random, job_id: uuid.UUID, at: datetime) -> JobEvent:
    attempt = rng.choice([1, 1, 1, 2, 3])
    kind = rng.choices(
        ["progressed", "started", "requeued", "completed", "failed", "cancelled"],
        weights=[12, 2, 1, 1, 1, 1],
    )[0]
    common = {"job_id": job_id, "attempt": attempt, "occurred_at": at}
    error = ErrorInfo(code="unavailable", message="x")
    match kind:
        case "progressed":
            return JobProgressed(**common, progress=round(rng.random(), 3))
        case "started":
            return JobStarted(**common)
        case "requeued":
            return JobRequeued(**common, error=error)
        case "completed":
            return JobCompleted(**common, result=RESULT)
        case "failed":
            return JobFailed(**common, error=error)
    return JobCancelled(**common)


def batches_of(rng: random.Random, jobs: list[uuid.UUID]) -> list[list[JobEvent]]:
    """A few batches, events of every job mixed, times shuffled within a batch."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for b in range(rng.randint(1, 4)):
        batch = [
            random_event(rng, job_id, start + timedelta(seconds=b * 100 + rng.random() * 50))
            for job_id in jobs
            for _ in range(rng.randint(0, 4))
        ]
        rng.shuffle(batch)
        out.append(batch)
    return out


def expected(batches: list[list[JobEvent]], job_id: uuid.UUID) -> JobState:
    """fold.py's answer: each batch in time order, as the planner applies it."""
    state = JobState(status=JobStatus.PENDING)
    for batch in batches:
        for event in sorted(batch, key=lambda e: e.occurred_at):
            if event.job_id == job_id:
                state = fold(state, event)
    return state


async def submit(fx: LedgerFixture, file_id: uuid.UUID, **extra: object) -> uuid.UUID:
    job_id = uuid.uuid4()
    reply = await fx.ledger.submit(
        SubmitJob(job_id=job_id, type="transcribe", file_id=file_id, cache=False, **extra),  # type: ignore[arg-type]
        source="test",
        record_rejection=False,
    )
    assert reply.job is not None, reply.error
    return job_id


async def test_the_statement_moves_plain_jobs_as_fold_does_on_random_histories(
    ledger: LedgerFixture,
) -> None:
    file_id = await register(ledger)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    for _ in range(60):
        jobs = [await submit(ledger, file_id) for _ in range(3)]
        batches = batches_of(rng, jobs)
        for batch in batches:
            await ledger.ledger.ingest(batch)
        for job_id in jobs:
            want = expected(batches, job_id)
            got = await ledger.pool.fetchrow(
                "SELECT status, attempt, progress, started_at FROM jobs WHERE id = $1", job_id
            )
            assert (got["status"], got["attempt"], got["progress"], got["started_at"]) == (
                want.status.value,
                want.attempt,
                want.progress,
                want.started_at,
            ), f"seed {seed}: {batches}"


async def test_batch_children_go_through_the_planner_and_move_their_parent(
    ledger: LedgerFixture,
) -> None:
    files = [await register(ledger) for _ in range(2)]
    parent = uuid.uuid4()
    reply = await ledger.ledger.submit(
        SubmitJob(
            job_id=parent,
            type="batch",  # type: ignore[arg-type]
            options={"child_type": "transcribe"},
            file_ids=files,
        ),
        source="test",
        record_rejection=False,
    )
    assert reply.job is not None, reply.error
    children = [
        r["id"]
        for r in await ledger.pool.fetch(
            "SELECT id FROM jobs WHERE parent_id = $1 ORDER BY id", parent
        )
    ]
    plain = await submit(ledger, files[0])
    await ledger.ledger.ingest(
        [JobProgressed(job_id=child, progress=0.5) for child in children]
        + [JobProgressed(job_id=plain, progress=0.25)]
    )
    job = (await ledger.ledger.get_job(JobGetRequest(job_id=parent, owner="default"))).job
    assert job is not None and job.status is JobStatus.PROCESSING and job.progress == 0.5
    mirrored = await ledger.pool.fetchval(
        "SELECT count(*) FROM job_events WHERE job_id = $1 AND kind = 'progressed'", parent
    )
    assert mirrored == 1
    moved = await ledger.pool.fetchrow("SELECT status, progress FROM jobs WHERE id = $1", plain)
    assert (moved["status"], moved["progress"]) == ("processing", 0.25)


async def test_batches_folding_side_by_side_on_the_same_jobs_neither_deadlock_nor_lose(
    ledger: LedgerFixture,
) -> None:
    file_id = await register(ledger)
    jobs = sorted([await submit(ledger, file_id) for _ in range(40)])
    # One batch only reports progress; the other ends half the jobs and reports on the
    # rest, in reverse order: every lock order a careless fold could take.
    progress = [JobProgressed(job_id=j, progress=0.5) for j in jobs]
    mixed: list[JobEvent] = []
    for i, j in enumerate(reversed(jobs)):
        mixed += [JobStarted(job_id=j)]
        mixed += (
            [JobCompleted(job_id=j, result=RESULT)]
            if i % 2
            else [JobProgressed(job_id=j, progress=0.75)]
        )
    for _ in range(5):
        await asyncio.gather(ledger.ledger.ingest(list(progress)), ledger.ledger.ingest(mixed))
        progress = [JobProgressed(job_id=e.job_id, progress=0.5) for e in progress]
        mixed = [e.model_copy(update={"event_id": uuid.uuid4()}) for e in mixed]
    rows = {
        r["id"]: (r["status"], r["progress"])
        for r in await ledger.pool.fetch(
            "SELECT id, status, progress FROM jobs WHERE id = ANY($1::uuid[])", jobs
        )
    }
    for i, j in enumerate(reversed(jobs)):
        assert rows[j] == (("completed", 1.0) if i % 2 else ("processing", 0.75))
