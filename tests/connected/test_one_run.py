"""One run, one outcome per job, whatever the network does.

- A job whose outcome's publish times out (NATS unreachable for longer than the
  publish timeout) still ends once: the outcome reaches JetStream when the network
  comes back, and the job is not run again.
- A command for a job whose outcome is in the events stream is not run.
- A job delivered again while a stalled replica still runs it is not run a second time.

Before: the timeout was taken for a failure, the job requeued and ran a second time,
while the first `completed` (buffered by nats-py) was stored on reconnect: two
`completed` events for one job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

import pytest
from nats.aio.client import Client

from contracts import JobCompleted, JobType, RunJob, parse_event, streams, subjects
from contracts.results import ConvertResult
from services.common import jetstream
from services.common.job_context import JobContext, Outcome
from services.common.run_lease import RunLeases
from services.common.settings import WorkerSettings
from services.common.worker_app import run_worker
from tests.connected.test_worker_retries import consumer_settled, pulling
from tests.support.tcp_proxy import freezable_proxy
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.connected

PUBLISH_TIMEOUT_S = 10.0  # EventPublisher's timeout for one publish


async def stored_events(nc: Client, job_id: uuid.UUID) -> list[str]:
    """Every event kind the events stream holds for the job, in order."""
    js = nc.jetstream()
    sub = await js.subscribe(
        subjects.events_subject(job_id), stream=streams.EVENTS_STREAM, ordered_consumer=True
    )
    kinds: list[str] = []
    try:
        while True:
            msg = await sub.next_msg(timeout=1.0)
            kinds.append(parse_event(msg.data).kind)
    except Exception:  # nats TimeoutError: nothing more stored
        return kinds
    finally:
        await sub.unsubscribe()


async def test_a_completed_whose_publish_timed_out_is_stored_once_and_the_job_not_rerun(
    nc: Client, nats_url: str
) -> None:
    runs: list[int] = []
    work_may_end = asyncio.Event()

    async def convert(ctx: JobContext) -> Outcome:
        runs.append(ctx.attempt)
        await work_may_end.wait()
        return Outcome(
            result=ConvertResult(
                file_id=uuid.uuid4(), content_type="audio/mpeg", duration_s=1.0, size=1
            )
        )

    settings = WorkerSettings(
        health_port=0,
        jetscribe_dev_mode=True,
        heartbeat_s=1.0,
        ack_wait_s=60.0,
        retry_backoff_s=(0.2,),
        max_concurrent_jobs=1,
    )
    async with freezable_proxy(nats_url) as proxy:
        settings = settings.model_copy(update={"nats_url": proxy.url})
        task = asyncio.create_task(run_worker("test-worker", settings, {JobType.CONVERT: convert}))
        try:
            await async_wait_until(lambda: pulling(nc, task), 30, "the worker pulling")
            job_id = uuid.uuid4()
            run = RunJob(
                job_id=job_id, type=JobType.CONVERT, file_id=uuid.uuid4(), input_key="files/x"
            )
            await nc.jetstream().publish(
                subjects.run_subject(JobType.CONVERT), run.model_dump_json().encode()
            )
            await async_wait_until(lambda: runs == [1], 20, "the job running")
            proxy.freeze()
            work_may_end.set()  # the job ends while the worker cannot reach NATS
            await asyncio.sleep(PUBLISH_TIMEOUT_S + 8)  # progress 1.0 (2 s), then the outcome
            proxy.thaw()

            async def ended() -> bool:
                return "completed" in await stored_events(nc, job_id)

            await async_wait_until(ended, 30, "the outcome stored")
            await asyncio.sleep(3.0)  # time for a wrong second run to start: none may
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    kinds = await stored_events(nc, job_id)
    assert runs == [1], f"the job ran {len(runs)} times: attempts {runs}"
    assert kinds.count("completed") == 1, kinds
    assert "requeued" not in kinds, kinds


async def test_a_command_for_a_job_whose_outcome_is_in_the_stream_is_not_run(
    nc: Client, nats_url: str
) -> None:
    """No ledger answers here: the events stream alone tells the worker the job ended."""
    runs: list[int] = []

    async def convert(ctx: JobContext) -> Outcome:
        runs.append(ctx.attempt)
        raise AssertionError("must not run")

    settings = WorkerSettings(
        nats_url=nats_url, health_port=0, jetscribe_dev_mode=True, max_concurrent_jobs=1
    )
    task = asyncio.create_task(run_worker("test-worker", settings, {JobType.CONVERT: convert}))
    try:
        await async_wait_until(lambda: pulling(nc, task), 30, "the worker pulling")
        job_id = uuid.uuid4()
        js = nc.jetstream()
        done = JobCompleted(
            job_id=job_id,
            result=ConvertResult(
                file_id=uuid.uuid4(), content_type="audio/mpeg", duration_s=1.0, size=1
            ),
        )
        await js.publish(subjects.events_subject(job_id), done.model_dump_json().encode())
        run = RunJob(job_id=job_id, type=JobType.CONVERT, file_id=uuid.uuid4(), input_key="files/x")
        await js.publish(subjects.run_subject(JobType.CONVERT), run.model_dump_json().encode())
        await async_wait_until(lambda: consumer_settled(nc), 15, "the command acked")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert runs == []
    assert await stored_events(nc, job_id) == ["completed"]


async def test_a_job_delivered_again_while_a_stalled_replica_runs_it_is_not_run_twice(
    nc: Client, nats_url: str
) -> None:
    runs: list[str] = []
    work_may_end = asyncio.Event()

    def convert_as(replica: str) -> Any:
        async def convert(ctx: JobContext) -> Outcome:
            runs.append(replica)
            await work_may_end.wait()
            return Outcome(
                result=ConvertResult(
                    file_id=uuid.uuid4(), content_type="audio/mpeg", duration_s=1.0, size=1
                )
            )

        return convert

    settings = WorkerSettings(
        health_port=0,
        jetscribe_dev_mode=True,
        heartbeat_s=1.0,
        ack_wait_s=6.0,
        max_concurrent_jobs=1,
    )
    async with freezable_proxy(nats_url) as proxy:
        stalled = asyncio.create_task(
            run_worker(
                "a",
                settings.model_copy(update={"nats_url": proxy.url}),
                {JobType.CONVERT: convert_as("a")},
            )
        )
        await async_wait_until(lambda: pulling(nc, stalled), 30, "replica a pulling")
        job_id = uuid.uuid4()
        run = RunJob(job_id=job_id, type=JobType.CONVERT, file_id=uuid.uuid4(), input_key="files/x")
        await nc.jetstream().publish(
            subjects.run_subject(JobType.CONVERT), run.model_dump_json().encode()
        )
        await async_wait_until(lambda: runs == ["a"], 20, "replica a running the job")
        proxy.freeze()  # replica a stalls: no heartbeat reaches JetStream
        other = asyncio.create_task(
            run_worker(
                "b",
                settings.model_copy(update={"nats_url": nats_url}),
                {JobType.CONVERT: convert_as("b")},
            )
        )
        try:
            await async_wait_until(lambda: delivered_again(nc), 30, "the job delivered again")
            await asyncio.sleep(0.5)  # replica b had the redelivery in hand (lease: 9 s)
            proxy.thaw()
            work_may_end.set()

            async def ended() -> bool:
                return "completed" in await stored_events(nc, job_id)

            await async_wait_until(ended, 30, "the outcome stored")
            await async_wait_until(lambda: consumer_settled(nc), 30, "the command settled")
        finally:
            for task in (stalled, other):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    assert runs == ["a"], f"runs by replica: {runs}"
    assert (await stored_events(nc, job_id)).count("completed") == 1


async def delivered_again(nc: Client) -> bool:
    js = nc.jetstream()
    info = await js.consumer_info(
        streams.JOBS_STREAM, streams.worker_consumer_name(JobType.CONVERT)
    )
    return (info.num_redelivered or 0) > 0


async def test_a_job_whose_lease_holder_died_runs_once_its_lease_runs_out(
    nc: Client, nats_url: str
) -> None:
    """A lease left by a replica that died (kill -9) holds the job back only until it
    runs out, and the delivery that waited runs it: no attempt is used up."""
    runs: list[int] = []

    async def convert(ctx: JobContext) -> Outcome:
        runs.append(ctx.attempt)
        return Outcome(
            result=ConvertResult(
                file_id=uuid.uuid4(), content_type="audio/mpeg", duration_s=1.0, size=1
            )
        )

    job_id = uuid.uuid4()
    js = nc.jetstream()
    kv = await jetstream.running_kv(js)
    ghost = json.dumps({"holder": "a replica killed with -9", "until": time.time() + 3.0})
    await kv.put(streams.run_lease_key(job_id), ghost.encode())
    settings = WorkerSettings(
        nats_url=nats_url, health_port=0, jetscribe_dev_mode=True, heartbeat_s=1.0,
        ack_wait_s=30.0, max_concurrent_jobs=1,
    )  # fmt: skip
    task = asyncio.create_task(run_worker("b", settings, {JobType.CONVERT: convert}))
    try:
        await async_wait_until(lambda: pulling(nc, task), 30, "the worker pulling")
        run = RunJob(job_id=job_id, type=JobType.CONVERT, file_id=uuid.uuid4(), input_key="files/x")
        await js.publish(subjects.run_subject(JobType.CONVERT), run.model_dump_json().encode())
        await async_wait_until(lambda: runs, 15, "the job run after the lease ran out")
        await async_wait_until(lambda: consumer_settled(nc), 15, "the command acked")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert runs == [1]  # on the delivery that waited: JetStream never had to redeliver


async def test_a_job_whose_every_attempt_died_without_an_outcome_fails_and_ends(
    nc: Client, nats_url: str
) -> None:
    """Two deliveries taken and never settled (their workers killed): the next one is
    over MAX_DELIVER=2, so the job fails as retries_exhausted instead of staying
    `processing` for ever once JetStream stopped delivering it."""
    js = nc.jetstream()
    await jetstream.ensure_streams(js)
    consumer = jetstream.worker_consumer(JobType.CONVERT, ack_wait_s=2.0, max_deliver=-1)
    await jetstream.ensure_consumer(js, streams.JOBS_STREAM, consumer)
    job_id = uuid.uuid4()
    run = RunJob(job_id=job_id, type=JobType.CONVERT, file_id=uuid.uuid4(), input_key="files/x")
    await js.publish(subjects.run_subject(JobType.CONVERT), run.model_dump_json().encode())
    doomed = await js.pull_subscribe_bind(consumer.durable_name or "", streams.JOBS_STREAM)
    for _ in range(2):  # a worker takes it and dies: no ack, no nak, no outcome
        [msg] = await doomed.fetch(1, timeout=10)
        await asyncio.sleep(2.5)  # past ack_wait: JetStream delivers it again
    await doomed.unsubscribe()

    async def never(ctx: JobContext) -> Outcome:
        raise AssertionError("a third attempt must not run")

    settings = WorkerSettings(
        nats_url=nats_url, health_port=0, jetscribe_dev_mode=True, max_deliver=2,
        heartbeat_s=0.5, ack_wait_s=2.0, max_concurrent_jobs=1,
    )  # fmt: skip
    task = asyncio.create_task(run_worker("w", settings, {JobType.CONVERT: never}))
    try:

        async def failed() -> bool:
            return "failed" in await stored_events(nc, job_id)

        await async_wait_until(failed, 20, "the job failed")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    last = await js.get_last_msg(streams.EVENTS_STREAM, subjects.events_subject(job_id))
    event = parse_event(last.data or b"")
    assert event.kind == "failed" and event.error.code == "retries_exhausted"  # type: ignore[union-attr]
    assert msg.metadata.num_delivered == 2


async def test_a_lease_taken_over_is_neither_renewed_nor_released_by_its_old_holder(
    nc: Client,
) -> None:
    kv = await jetstream.running_kv(nc.jetstream())
    stalled = RunLeases(kv, "stalled", lease_s=0.5)
    successor = RunLeases(kv, "successor", lease_s=30)
    job_id = uuid.uuid4()
    old = await stalled.acquire(job_id)
    assert old is not None and await successor.acquire(job_id) is None  # live: held
    await asyncio.sleep(0.7)  # the stalled holder's lease runs out
    new = await successor.acquire(job_id)
    assert new is not None
    await stalled.refresh(old)  # the old holder wakes up: must not overwrite
    await stalled.release(old)  # nor delete
    entry = await kv.get(streams.run_lease_key(job_id))
    assert json.loads(entry.value or b"{}")["holder"] == "successor"
    await successor.release(new)
    assert await RunLeases(kv, "third").acquire(job_id) is not None  # free again
