"""Poison on the ledger's consumed subjects: given up once, recorded, listed; the rest
goes on.

- `jobs.events.<id>`: bytes that are not an event, and an event PostgreSQL refuses
  (an attempt beyond its integer range) sent in a burst of good events: the bad ones
  become dead letters, terminated at once; every good one is stored. An event with
  NUL in its text is stored, the NUL replaced.
- `jobs.submit`: a submission with NUL in its text is stored (it was retried for ever).
- `GET /v1/dead-letters` lists them with subject, stream sequence, reason and excerpt.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.aio.client import Client

from contracts import ErrorInfo, JobProgressed, JobRequeued, SubmitJob, streams, subjects
from tests.support.client import Api
from tests.support.stack import Stack
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "converter", "gateway")


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


@pytest.fixture
async def js_client(stack: Stack) -> AsyncIterator[Client]:
    nc = await nats.connect(stack.nats_url)
    yield nc
    await nc.drain()


def dead_letters(api: Api) -> list[dict[str, object]]:
    r = api.http.get("/v1/dead-letters", params={"limit": 500})
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def events_settled(nc: Client) -> bool:
    info = await nc.jetstream().consumer_info(streams.EVENTS_STREAM, streams.LEDGER_EVENTS_CONSUMER)
    return (info.num_pending or 0) == 0 and (info.num_ack_pending or 0) == 0


async def test_poison_events_are_given_up_recorded_and_their_batch_mates_stored(
    stack: Stack, api: Api, js_client: Client, module_database_url: str
) -> None:
    js = js_client.jetstream()
    job_id = uuid.uuid4()  # events of a job the ledger does not know are stored all the same
    good = [JobProgressed(job_id=job_id, progress=i / 100) for i in range(1, 41)]
    refused = JobProgressed(job_id=job_id, attempt=3_000_000_000, progress=0.5)
    garbage = b'{"kind": "progressed", "job_id": 12}\x00\xff'
    with_nul = JobRequeued(
        job_id=job_id, attempt=2, error=ErrorInfo(code="internal", message="bad\x00byte")
    )
    subject = subjects.events_subject(job_id)
    for i, event in enumerate(good):
        await js.publish(subject, event.model_dump_json().encode())
        if i == 20:
            await js.publish(subject, refused.model_dump_json().encode())
            await js.publish(subject, garbage)
            await js.publish(subject, with_nul.model_dump_json().encode())

    await async_wait_until(lambda: events_settled(js_client), 30, "every event settled")
    db = await asyncpg.connect(module_database_url)
    try:
        stored = {
            r["event_id"]: r["payload"]
            for r in await db.fetch(
                "SELECT event_id, payload::text AS payload FROM job_events WHERE job_id = $1",
                job_id,
            )
        }
    finally:
        await db.close()
    assert {e.event_id for e in good} <= set(stored), "a good event was lost with the poison"
    assert refused.event_id not in stored
    assert "bad\ufffdbyte" in stored[with_nul.event_id]

    letters = await async_wait_until(
        lambda: [d for d in dead_letters(api) if d["subject"] == subject] or None,
        20,
        "the dead letters listed",
    )
    assert len(letters) == 2, letters
    reasons = " | ".join(str(d["reason"]) for d in letters)
    assert "not a job event" in reasons and "refused by the ledger" in reasons
    assert all(d["consumer"] == streams.LEDGER_EVENTS_CONSUMER for d in letters)
    assert all(d["stream"] == streams.EVENTS_STREAM and d["stream_seq"] for d in letters)
    assert any("\\x00" in str(d["excerpt"]) for d in letters)  # NUL shown, not stored
    await asyncio.sleep(3.0)  # a terminated message is never delivered again
    assert await events_settled(js_client)
    assert len([d for d in dead_letters(api) if d["subject"] == subject]) == 2


async def test_a_submission_with_nul_in_its_text_is_stored(
    stack: Stack, api: Api, js_client: Client, tmp_path: Path
) -> None:
    clip = tmp_path / "tone.wav"
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        str(clip),
    )
    assert await proc.wait() == 0
    file_id = api.upload(clip)["id"]
    job_id = uuid.uuid4()
    submit = SubmitJob(
        job_id=job_id,
        type="convert",  # type: ignore[arg-type]
        file_id=file_id,
        options={"preset": "mp3"},
        correlation_id="upstream\x00nul",
    )
    await js_client.jetstream().publish(subjects.JOBS_SUBMIT, submit.model_dump_json().encode())
    job = await asyncio.to_thread(lambda: poll_until_known(api, str(job_id)))
    assert api.wait(job["id"], 60)["status"] == "completed"


def poll_until_known(api: Api, job_id: str) -> dict[str, object]:
    for _ in range(300):
        r = api.http.get(f"/v1/jobs/{job_id}")
        if r.status_code == 200:
            return r.json()  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} was never stored")


async def test_a_submission_that_names_no_job_is_a_dead_letter(
    stack: Stack, api: Api, js_client: Client
) -> None:
    body = b'[{"type": "convert"}, "not a submission"]'
    ack = await js_client.jetstream().publish(subjects.JOBS_SUBMIT, body)
    letters = await async_wait_until(
        lambda: [d for d in dead_letters(api) if d["stream_seq"] == ack.seq] or None,
        20,
        "the submission recorded as a dead letter",
    )
    [letter] = letters
    assert letter["consumer"] == streams.LEDGER_SUBMIT_CONSUMER
    assert letter["subject"] == subjects.JOBS_SUBMIT and "not a SubmitJob" in letter["reason"]
    assert letter["excerpt"].startswith('[{"type": "convert"}')
