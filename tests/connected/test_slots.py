"""Slots: a replica fetches one job per free slot, shared by the types it handles.

- One slow job holds one slot: the other slots keep taking jobs (before, a replica
  fetched a batch of N and waited for all of it, so a slow job idled N-1 slots).
- A job is `started` only when a slot is free for it; until then it stays in the
  stream for any replica (before, each type fetched on its own and published
  `JobStarted` for a job that then waited behind another type's job).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping

import pytest
from nats.aio.client import Client

from contracts import ConvertResult, JobType, RunJob, streams, subjects
from services.common.job_context import Execute, JobContext, Outcome
from services.common.settings import WorkerSettings
from services.common.worker_app import run_worker
from tests.connected.test_one_run import stored_events
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.connected


def result() -> Outcome:
    return Outcome(
        result=ConvertResult(file_id=uuid.uuid4(), content_type="audio/mpeg", duration_s=1, size=1)
    )


@contextlib.asynccontextmanager
async def worker(
    nats_url: str, slots: int, handlers: Mapping[JobType, Execute]
) -> AsyncIterator[None]:
    settings = WorkerSettings(
        nats_url=nats_url, health_port=0, jetscribe_dev_mode=True, max_concurrent_jobs=slots
    )
    task = asyncio.create_task(run_worker("slots", settings, handlers))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send(nc: Client, job_type: JobType) -> uuid.UUID:
    job_id = uuid.uuid4()
    run = RunJob(job_id=job_id, type=job_type, file_id=uuid.uuid4(), input_key="files/x")
    await nc.jetstream().publish(subjects.run_subject(job_type), run.model_dump_json().encode())
    return job_id


async def test_one_slow_job_holds_one_slot_not_a_batch(nc: Client, nats_url: str) -> None:
    slow_may_end = asyncio.Event()
    done: list[uuid.UUID] = []

    async def convert(ctx: JobContext) -> Outcome:
        if ctx.run.options.get("slow"):
            await slow_may_end.wait()
        done.append(ctx.run.job_id)
        return result()

    async with worker(nats_url, 2, {JobType.CONVERT: convert}):
        js = nc.jetstream()
        slow = RunJob(
            job_id=uuid.uuid4(), type=JobType.CONVERT, file_id=uuid.uuid4(), input_key="files/x",
            options={"slow": True},
        )  # fmt: skip
        await js.publish(subjects.run_subject(JobType.CONVERT), slow.model_dump_json().encode())
        quick = [await send(nc, JobType.CONVERT) for _ in range(4)]
        await async_wait_until(lambda: set(quick) <= set(done), 20, "the quick jobs done")
        assert slow.job_id not in done
        slow_may_end.set()
        await async_wait_until(lambda: slow.job_id in done, 20, "the slow job done")


async def test_a_job_is_started_only_when_a_slot_is_free_for_it(nc: Client, nats_url: str) -> None:
    first_may_end = asyncio.Event()

    async def slow_convert(ctx: JobContext) -> Outcome:
        await first_may_end.wait()
        return result()

    async def quick_fix(ctx: JobContext) -> Outcome:
        return result()

    handlers = {JobType.CONVERT: slow_convert, JobType.FIX_SRT: quick_fix}
    async with worker(nats_url, 1, handlers):  # type: ignore[arg-type]
        busy = await send(nc, JobType.CONVERT)
        await async_wait_until(lambda: has_started(nc, busy), 20, "the first job started")
        waiting = await send(nc, JobType.FIX_SRT)
        await asyncio.sleep(3.0)  # several fetch rounds: none may take it
        assert await stored_events(nc, waiting) == []  # not `started` behind the busy slot
        info = await nc.jetstream().consumer_info(
            streams.JOBS_STREAM, streams.worker_consumer_name(JobType.FIX_SRT)
        )
        assert (info.num_ack_pending or 0) == 0 and (info.num_pending or 0) == 1  # free to take
        first_may_end.set()
        await async_wait_until(
            lambda: is_completed(nc, waiting), 20, "the second job done once the slot freed"
        )


async def has_started(nc: Client, job_id: uuid.UUID) -> bool:
    return "started" in await stored_events(nc, job_id)


async def is_completed(nc: Client, job_id: uuid.UUID) -> bool:
    return "completed" in await stored_events(nc, job_id)


async def test_a_burst_of_jobs_is_taken_only_as_far_as_the_replica_wants_them(
    nc: Client, nats_url: str
) -> None:
    """A replica that wants two jobs at a time (the transcriber: while its batches ahead
    are not full) holds two of a burst of six, however many slots it has, and leaves
    the rest in the stream for other replicas, even before its handlers have started.
    The other type it pulls, idle, has a fetch open all the while: that is no job."""
    from services.common.slot_puller import DemandSlots

    may_end = asyncio.Event()

    async def convert(ctx: JobContext) -> Outcome:
        await may_end.wait()
        return result()

    settings = WorkerSettings(
        nats_url=nats_url, health_port=0, jetscribe_dev_mode=True, max_concurrent_jobs=8
    )
    slots = DemandSlots(8, lambda held: held < 2, poll_s=0.01)
    burst = [await send(nc, JobType.CONVERT) for _ in range(6)]
    task = asyncio.create_task(
        run_worker(
            "slots", settings, {JobType.CONVERT: convert, JobType.FIX_SRT: convert}, slots=slots
        )
    )
    try:
        await async_wait_until(
            lambda: started_count(nc, burst, 2), 20, "two jobs of the burst started"
        )
        await asyncio.sleep(2.0)  # many demand polls: no third job may be taken
        assert [await has_started(nc, job) for job in burst].count(True) == 2
        info = await nc.jetstream().consumer_info(
            streams.JOBS_STREAM, streams.worker_consumer_name(JobType.CONVERT)
        )
        assert (info.num_ack_pending or 0) == 2 and (info.num_pending or 0) == 4
        may_end.set()
        await async_wait_until(
            lambda: all_completed(nc, burst), 30, "the burst done, two at a time"
        )
    finally:
        may_end.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def started_count(nc: Client, jobs: list[uuid.UUID], count: int) -> bool:
    return [await has_started(nc, job) for job in jobs].count(True) >= count


async def all_completed(nc: Client, jobs: list[uuid.UUID]) -> bool:
    return all([await is_completed(nc, job) for job in jobs])
