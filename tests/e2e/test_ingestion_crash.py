"""The ledger killed (-9) while it folds a backlog of events, two batches in flight:
after its restart every event is stored once and every job ends as its events say."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path

import asyncpg
import nats
import pytest

from contracts import JobCompleted, JobProgressed, JobStarted, TranscribeResult, streams
from tests.support.client import Api
from tests.support.stack import Stack

JOBS, REPORTS = 200, 100  # 20,000 progress events: seconds of folding on 2 cores


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "gateway")  # no worker: the events are this test's


def events_for(job_ids: list[str]) -> list[tuple[str, bytes]]:
    result = TranscribeResult(
        text="x", language="en", language_probability=1, duration_s=1, segments=[]
    )
    ids = [uuid.UUID(j) for j in job_ids]
    out = [(f"jobs.events.{j}", JobStarted(job_id=j).model_dump_json().encode()) for j in ids]
    for step in range(REPORTS):
        out += [
            (
                f"jobs.events.{j}",
                JobProgressed(job_id=j, progress=(step + 1) / REPORTS * 0.99)
                .model_dump_json()
                .encode(),
            )
            for j in ids
        ]
    out += [
        (f"jobs.events.{j}", JobCompleted(job_id=j, result=result).model_dump_json().encode())
        for j in ids
    ]
    return out


async def publish(nats_url: str, messages: list[tuple[str, bytes]]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for i in range(0, len(messages), 2000):
        await asyncio.gather(*(js.publish(s, d) for s, d in messages[i : i + 2000]))
    await nc.close()


async def backlog(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info(
            streams.EVENTS_STREAM, streams.LEDGER_EVENTS_CONSUMER
        )
        return int(info.num_pending + info.num_ack_pending)
    finally:
        await nc.close()


def test_a_ledger_killed_mid_backlog_stores_every_event_once(
    stack: Stack, speech_mp3: Path
) -> None:
    api = Api(stack.gateway_url)
    file_id = api.upload(speech_mp3)["id"]
    job_ids = [api.submit(file_id, cache=False)["id"] for _ in range(JOBS)]
    stack["ledger"].stop()
    messages = events_for(job_ids)
    asyncio.run(publish(stack.nats_url, messages))

    stack["ledger"].start()
    stack["ledger"].wait_ready()
    deadline = time.monotonic() + 60
    while (left := asyncio.run(backlog(stack.nats_url))) >= len(messages):
        assert time.monotonic() < deadline, "the ledger folded nothing"
        time.sleep(0.02)  # until the first batch is acked: the next ones are in flight
    ledger = stack["ledger"].popen
    assert ledger is not None
    ledger.send_signal(signal.SIGKILL)
    ledger.wait()
    assert left > 0, "the backlog was gone before the kill: nothing was tested"

    stack["ledger"].start()
    stack["ledger"].wait_ready()
    deadline = time.monotonic() + 120
    while asyncio.run(backlog(stack.nats_url)) > 0:
        assert time.monotonic() < deadline, "the backlog did not drain after the restart"
        time.sleep(0.2)

    async def stored() -> tuple[dict[str, int], set[tuple[str, float]]]:
        conn = await asyncpg.connect(stack.database_url)
        try:
            kinds = await conn.fetch(
                """SELECT kind, count(*) AS n, count(DISTINCT event_id) AS distinct_ids
                   FROM job_events WHERE job_id = ANY($1::uuid[]) GROUP BY kind""",
                job_ids,
            )
            assert all(r["n"] == r["distinct_ids"] for r in kinds)
            jobs = await conn.fetch(
                "SELECT status, progress FROM jobs WHERE id = ANY($1::uuid[])", job_ids
            )
        finally:
            await conn.close()
        return {r["kind"]: r["n"] for r in kinds}, {(r["status"], r["progress"]) for r in jobs}

    kinds, states = asyncio.run(stored())
    assert kinds == {
        "queued": JOBS,
        "started": JOBS,
        "progressed": JOBS * REPORTS,
        "completed": JOBS,
    }
    assert states == {("completed", 1.0)}
