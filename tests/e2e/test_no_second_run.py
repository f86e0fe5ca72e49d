"""A command is run only for a job the ledger knows and has not finished: a `RunJob`
re-sent for a completed job, or one for a job that never existed, runs nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import nats
import pytest

from contracts import JobType, RunJob, streams, subjects
from tests.support.client import Api
from tests.support.stack import Stack
from tests.support.waiting import async_wait_until


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "converter", "gateway")


async def kinds_of(js: nats.js.JetStreamContext, job_id: uuid.UUID) -> list[str]:
    """The kinds of every event JetStream holds for the job, in order."""
    sub = await js.subscribe(subjects.events_subject(job_id), ordered_consumer=True)
    kinds = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1.0)
            except TimeoutError:
                return kinds
            kinds.append(json.loads(msg.data)["kind"])
    finally:
        await sub.unsubscribe()


async def convert_queue_empty(js: nats.js.JetStreamContext) -> bool:
    info = await js.consumer_info(streams.JOBS_STREAM, streams.worker_consumer_name("convert"))
    return (info.num_pending or 0) == 0 and (info.num_ack_pending or 0) == 0


async def send_and_follow(stack: Stack, run: RunJob) -> list[str]:
    """Publish the command straight to the workers (no ledger), wait until it is handled,
    and return the kinds of every event the job then has."""
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        await js.publish(subjects.run_subject(run.type), run.model_dump_json().encode())
        await async_wait_until(lambda: convert_queue_empty(js), 30, "the command handled")
        return await kinds_of(js, run.job_id)
    finally:
        await nc.drain()


async def test_a_command_resent_for_a_completed_job_does_not_run_it_again(
    stack: Stack, speech_wav: Path
) -> None:
    api = Api(stack.gateway_url)
    file_id = api.upload(speech_wav)["id"]
    job = api.wait(api.submit(file_id, "convert", {"preset": "mp3"}, cache=False)["id"])
    assert job["status"] == "completed"
    again = RunJob(
        job_id=job["id"], type=JobType.CONVERT, file_id=file_id, input_key=f"files/{file_id}"
    )
    kinds = await send_and_follow(stack, again)
    assert kinds.count("started") == 1 and kinds.count("completed") == 1, kinds
    assert api.get(job["id"])["attempt"] == 1


async def test_a_command_for_a_job_the_ledger_never_created_runs_nothing(
    stack: Stack, speech_wav: Path
) -> None:
    file_id = Api(stack.gateway_url).upload(speech_wav)["id"]
    stray = RunJob(
        job_id=uuid.uuid4(), type=JobType.CONVERT, file_id=file_id, input_key=f"files/{file_id}"
    )
    kinds = await send_and_follow(stack, stray)
    assert kinds == []  # no started, no outputs, no events for a job nobody made


async def test_a_command_whose_input_key_leaves_the_bucket_layout_fails_at_once(
    stack: Stack,
) -> None:
    bad = RunJob(
        job_id=uuid.uuid4(),
        type=JobType.CONVERT,
        file_id=uuid.uuid4(),
        input_key="files/../../etc/passwd",
    )
    assert await send_and_follow(stack, bad) == ["failed"]
