"""The shared worker loop on a real NATS JetStream: transient errors are redelivered
with backoff until `max_deliver`, then the job fails naming the attempts and the last
error; permanent errors fail at once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from contracts import DeadLetter, JobType, RunJob, parse_event, streams, subjects
from services.common.errors import StorageUnavailable, UnreadableMedia
from services.common.job_context import JobContext, Outcome
from services.common.settings import WorkerSettings
from services.common.worker_app import run_worker
from tests.support.waiting import async_wait_until

ATTEMPTS: list[int] = []


async def storage_down(ctx: JobContext) -> Outcome:
    ATTEMPTS.append(ctx.attempt)
    raise StorageUnavailable("storage unreachable: ConnectionRefusedError")


async def not_media(ctx: JobContext) -> Outcome:
    ATTEMPTS.append(ctx.attempt)
    raise UnreadableMedia("cannot decode media: invalid data")


async def pulling(nc: Client, task: asyncio.Task[None]) -> bool:
    """The worker's consumer exists and the worker has a fetch waiting on it."""
    if task.done():
        task.result()  # a worker that died says why
        raise AssertionError("the worker returned before pulling")
    js = nc.jetstream()
    subject = subjects.run_subject(JobType.CONVERT)
    stream = await js.find_stream_name_by_subject(subject)
    return any(
        c.config.filter_subject == subject and (c.num_waiting or 0) > 0
        for c in await js.consumers_info(stream)
    )


@contextlib.asynccontextmanager
async def worker(nats_url: str, execute: object, nc: Client) -> AsyncIterator[None]:
    ATTEMPTS.clear()
    settings = WorkerSettings(
        nats_url=nats_url,
        health_port=0,
        jetscribe_dev_mode=True,
        max_deliver=3,
        heartbeat_s=1.0,
        retry_backoff_s=(0.2, 0.4),
        max_concurrent_jobs=1,
        ack_wait_s=5.0,
    )
    task = asyncio.create_task(
        run_worker(
            "test-worker",
            settings,
            {JobType.CONVERT: execute},  # type: ignore[dict-item]
        )
    )
    await async_wait_until(lambda: pulling(nc, task), 30, "the worker pulling jobs")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_one(nc: Client) -> list[dict[str, object]]:
    job_id = uuid.uuid4()
    sub = await nc.subscribe(subjects.events_subject(job_id))
    run = RunJob(job_id=job_id, type=JobType.CONVERT, file_id=uuid.uuid4(), input_key="files/x")
    await nc.jetstream().publish(
        subjects.run_subject(JobType.CONVERT), run.model_dump_json().encode()
    )
    events = []
    async with asyncio.timeout(20):
        while True:
            event = parse_event((await sub.next_msg(timeout=20)).data)
            events.append(event.model_dump(mode="json"))
            if event.kind == "failed":
                return events


async def test_a_transient_error_is_retried_then_fails_with_attempts_and_last_error(
    nc: Client, nats_url: str
) -> None:
    async with worker(nats_url, storage_down, nc):
        events = await run_one(nc)
    assert ATTEMPTS == [1, 2, 3]
    requeued = [e for e in events if e["kind"] == "requeued"]
    assert [e["attempt"] for e in requeued] == [2, 3]
    assert all(e["error"]["code"] == "storage_unavailable" for e in requeued)  # type: ignore[index]
    failed = events[-1]
    assert failed["attempt"] == 3
    assert failed["error"]["code"] == "retries_exhausted"  # type: ignore[index]
    message = failed["error"]["message"]  # type: ignore[index]
    assert "3 attempts" in message and "storage unreachable" in message


async def test_a_permanent_error_is_never_retried(nc: Client, nats_url: str) -> None:
    async with worker(nats_url, not_media, nc):
        events = await run_one(nc)
        # A window on purpose, to prove that no retry comes: one would start within the
        # 0.2-s backoff (retry_backoff_s above), so 1 s is five backoffs.
        await asyncio.sleep(1.0)  # nothing comes back
    assert ATTEMPTS == [1]
    assert [e["kind"] for e in events] == ["started", "failed"]
    assert events[-1]["error"]["code"] == "unreadable_media"  # type: ignore[index]


@pytest.fixture(autouse=True)
def _no_leftover_attempts() -> None:
    ATTEMPTS.clear()


async def consumer_settled(nc: Client) -> bool:
    """Nothing waits in the convert consumer: every message was acked or terminated."""
    js = nc.jetstream()
    subject = subjects.run_subject(JobType.CONVERT)
    stream = await js.find_stream_name_by_subject(subject)
    [info] = [c for c in await js.consumers_info(stream) if c.config.filter_subject == subject]
    return (info.num_pending or 0) == 0 and (info.num_ack_pending or 0) == 0


@pytest.mark.parametrize(
    "body", [b"not json at all", b"[1, 2, 3]", b'{"msg": 1, "runner": 2}', b"\xff\xfe\x00"]
)
async def test_a_garbage_command_is_terminated_at_once_and_the_worker_goes_on(
    nc: Client, nats_url: str, body: bytes
) -> None:
    async with worker(nats_url, not_media, nc):
        await nc.jetstream().publish(subjects.run_subject(JobType.CONVERT), body)
        await async_wait_until(lambda: consumer_settled(nc), 10, "the garbage terminated")
        assert ATTEMPTS == []  # never reached a job handler
        letter = await nc.jetstream().get_last_msg(
            streams.DEAD_LETTERS_STREAM, subjects.dead_letter_subject("worker-convert")
        )
        recorded = DeadLetter.model_validate_json(letter.data or b"")
        assert recorded.subject == subjects.run_subject(JobType.CONVERT) and recorded.reason
        events = await run_one(nc)  # the next, valid command still runs
    assert events[-1]["kind"] == "failed" and ATTEMPTS == [1]
