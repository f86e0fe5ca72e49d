"""The ledger's use cases against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from nats.aio.client import Client

from contracts import (
    ConvertResult,
    ErrorInfo,
    FileGetRequest,
    JobCompleted,
    JobFailed,
    JobGetRequest,
    JobProgressed,
    JobStarted,
    JobStatus,
    OutputFile,
    QueueStatsRequest,
    RunJob,
    SubmitJob,
    TranscribeResult,
    streams,
)
from services.ledger.adapters.pg import init_connection
from services.ledger.adapters.pg import outbox as pg_outbox
from services.ledger.adapters.pg.migrate import apply_migrations, available
from services.ledger.dispatcher import Dispatcher
from services.ledger.records import OutboxMessage
from tests.connected.conftest import LedgerFixture, register
from tests.support.waiting import async_wait_until


async def run_commands(nc: Client, count: int, timeout: float = 5) -> list[RunJob]:
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        "jobs.run.transcribe", durable="probe", stream=streams.JOBS_STREAM
    )
    out: list[RunJob] = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            try:
                msgs = await sub.fetch(count - len(out), timeout=1)
            except TimeoutError:
                continue
            for m in msgs:
                out.append(RunJob.model_validate_json(m.data))
                await m.ack()
    await sub.unsubscribe()
    return out


async def test_migrations_apply_once_and_are_idempotent(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        first, second = await apply_migrations(pool), await apply_migrations(pool)
        assert first == [name for _, name, _ in available()]
        assert first[:2] == ["0001_init.sql", "0002_pipeline_steps.sql"] and second == []
        tables = {
            r["tablename"]
            for r in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert {"jobs", "files", "job_events", "outbox", "schema_migrations"} <= tables
    finally:
        await pool.close()


async def test_a_created_job_is_pending_and_its_command_reaches_jetstream(
    ledger: LedgerFixture,
) -> None:
    file_id = await register(ledger)
    submit = SubmitJob(
        job_id=uuid.uuid4(),
        type="transcribe",
        file_id=file_id,  # type: ignore[arg-type]
        options={"beam_size": 2},
    )
    reply = await ledger.ledger.submit(submit, source="test", record_rejection=False)
    assert reply.created and reply.job and reply.job.status is JobStatus.PENDING
    [command] = await run_commands(ledger.nc, 1)
    assert command.job_id == submit.job_id
    assert command.input_key == f"files/{file_id}"
    assert command.options["beam_size"] == 2 and command.options["task"] == "transcribe"

    async def all_published() -> bool:  # marked right after JetStream confirms the batch
        unpublished = await ledger.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
        return bool(unpublished == 0)

    await async_wait_until(all_published, 10, "every outbox row marked published")


async def test_submitting_the_same_job_twice_creates_it_once(ledger: LedgerFixture) -> None:
    file_id = await register(ledger)
    submit = SubmitJob(
        job_id=uuid.uuid4(),
        type="transcribe",
        file_id=file_id,  # type: ignore[arg-type]
        idempotency_key="key-1",
    )
    first = await ledger.ledger.submit(submit, source="test", record_rejection=False)
    again = await ledger.ledger.submit(
        submit.model_copy(update={"job_id": uuid.uuid4()}), source="test", record_rejection=False
    )
    assert first.created and not again.created
    assert again.job and first.job and again.job.id == first.job.id
    assert await ledger.pool.fetchval("SELECT count(*) FROM jobs") == 1


async def test_unconfirmed_dispatches_are_republished_on_start_up(
    database_url: str, nc: Client
) -> None:
    pool = await asyncpg.create_pool(database_url, init=init_connection, min_size=1, max_size=2)
    try:
        await apply_migrations(pool)
        job_id = uuid.uuid4()
        run = RunJob(job_id=job_id, type="transcribe", file_id=uuid.uuid4(), input_key="files/x")  # type: ignore[arg-type]
        # A row committed by a ledger that crashed before publishing it.
        async with pool.acquire() as conn:
            await pg_outbox.insert(
                conn,
                [
                    OutboxMessage(
                        "jobs.run.transcribe", f"{job_id}:1", run.model_dump_json().encode()
                    )
                ],
            )
        dispatcher = Dispatcher(pool, nc.jetstream())
        await dispatcher.start()
        await dispatcher.stop()
        [command] = await run_commands(nc, 1)
        assert command.job_id == job_id
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        # Published twice (a second start-up sweep), delivered once: Nats-Msg-Id dedup.
        await pool.execute("UPDATE outbox SET published_at = NULL")
        dispatcher = Dispatcher(pool, nc.jetstream())
        await dispatcher.start()
        await dispatcher.stop()
        info = await nc.jetstream().stream_info(streams.JOBS_STREAM)
        assert info.state.messages == 0
    finally:
        await pool.close()


async def test_events_are_stored_once_and_folded_in_any_order(ledger: LedgerFixture) -> None:
    file_id = await register(ledger)
    job_id = uuid.uuid4()
    await ledger.ledger.submit(
        SubmitJob(job_id=job_id, type="transcribe", file_id=file_id),  # type: ignore[arg-type]
        source="test",
        record_rejection=False,
    )
    output = OutputFile(
        id=uuid.uuid4(),
        object_key=f"jobs/{job_id}/transcript.json",
        filename="transcript.json",
        content_type="application/json",
        size=5,
    )
    done = JobCompleted(
        job_id=job_id,
        language="en",
        outputs=[output],
        result=TranscribeResult(
            text="hello", language="en", language_probability=1, duration_s=1, segments=[]
        ),
    )
    started = JobStarted(job_id=job_id)
    progress = JobProgressed(job_id=job_id, progress=0.5)
    # Completed arrives first, then stale events and a duplicate.
    await ledger.ledger.ingest([done])
    await ledger.ledger.ingest([started, progress, done])
    late_fail = JobFailed(job_id=job_id, error=ErrorInfo(code="internal", message="late"))
    await ledger.ledger.ingest([late_fail])

    job = (await ledger.ledger.get_job(JobGetRequest(job_id=job_id, owner="default"))).job
    assert job is not None
    assert job.status is JobStatus.COMPLETED and job.progress == 1.0 and job.language == "en"
    assert job.output_file_ids == [output.id]
    stored = await ledger.pool.fetchval("SELECT count(*) FROM job_events WHERE job_id = $1", job_id)
    assert stored == 5  # queued, completed, started, progressed, failed: the duplicate dropped
    registered = await ledger.ledger.get_file(FileGetRequest(file_id=output.id, owner="default"))
    assert registered.file is not None and registered.file.job_id == job_id


async def test_a_rejected_upstream_submission_becomes_a_failed_job(ledger: LedgerFixture) -> None:
    submit = SubmitJob(job_id=uuid.uuid4(), type="transcribe", file_id=uuid.uuid4())  # type: ignore[arg-type]
    reply = await ledger.ledger.submit(submit, source="nats", record_rejection=True)
    assert reply.job is not None and reply.job.status is JobStatus.FAILED
    assert reply.job.error is not None and reply.job.error.code == "file_not_found"
    kinds = [
        r["kind"]
        for r in await ledger.pool.fetch(
            "SELECT kind FROM job_events WHERE job_id = $1", submit.job_id
        )
    ]
    assert kinds == ["failed"]


async def test_a_completed_step_starts_the_next_one_on_its_output(ledger: LedgerFixture) -> None:
    file_id = await register(ledger)
    root = uuid.uuid4()
    await ledger.ledger.submit(
        SubmitJob(
            job_id=root,
            type="convert",
            file_id=file_id,  # type: ignore[arg-type]
            options={"preset": "audio_wav_16k_mono"},
            then=[{"type": "generate_srt", "options": {}}],
        ),  # type: ignore[list-item]
        source="test",
        record_rejection=False,
    )
    wav = OutputFile(
        id=uuid.uuid4(),
        object_key=f"jobs/{root}/converted.wav",
        filename="converted.wav",
        content_type="audio/wav",
        size=10,
    )
    await ledger.ledger.ingest(
        [
            JobStarted(job_id=root),
            JobCompleted(
                job_id=root,
                outputs=[wav],
                result=ConvertResult(
                    file_id=wav.id, content_type="audio/wav", duration_s=1, size=10
                ),
            ),
        ]
    )
    job = (await ledger.ledger.get_job(JobGetRequest(job_id=root, owner="default"))).job
    assert job is not None and job.status is JobStatus.PROCESSING and job.progress == 0.5
    assert job.steps is not None
    assert [s.status for s in job.steps] == [JobStatus.COMPLETED, JobStatus.PENDING]
    step_id = job.steps[1].job_id
    assert step_id is not None
    step = (await ledger.ledger.get_job(JobGetRequest(job_id=step_id, owner="default"))).job
    assert step is not None and step.file_id == wav.id and step.type == "generate_srt"


async def test_queue_stats_count_live_jobs_and_the_windows_outcomes_per_type(
    ledger: LedgerFixture,
) -> None:
    file_id = await register(ledger)

    async def submit(job_type: str) -> uuid.UUID:
        job_id = uuid.uuid4()
        await ledger.ledger.submit(
            SubmitJob(job_id=job_id, type=job_type, file_id=file_id),  # type: ignore[arg-type]
            source="test",
            record_rejection=False,
        )
        return job_id

    waiting, running, done, old = [await submit("transcribe") for _ in range(4)]
    failed = await submit("generate_srt")
    result = TranscribeResult(
        text="hi", language="en", language_probability=1, duration_s=1, segments=[]
    )
    await ledger.ledger.ingest(
        [
            JobStarted(job_id=running),
            JobCompleted(job_id=done, language="en", result=result),
            JobCompleted(job_id=old, language="en", result=result),
            JobFailed(job_id=failed, error=ErrorInfo(code="internal", message="boom")),
        ]
    )
    await ledger.pool.execute(  # finished before the window
        "UPDATE jobs SET finished_at = now() - interval '2 hours' WHERE id = $1", old
    )
    stats = await ledger.ledger.queue_stats(QueueStatsRequest(window_s=3600))
    by_type = {t.type: t for t in stats.types}
    assert set(by_type) == {"transcribe", "generate_srt"} and stats.dead_letters == 0
    transcribe, srt_ = by_type["transcribe"], by_type["generate_srt"]
    assert (transcribe.waiting, transcribe.running) == (1, 1), waiting
    assert (transcribe.completed_recently, transcribe.failed_recently) == (1, 0)
    assert transcribe.oldest_waiting_s is not None and 0 <= transcribe.oldest_waiting_s < 60
    assert (srt_.waiting, srt_.running, srt_.failed_recently) == (0, 0, 1)
    assert srt_.oldest_waiting_s is None
