"""Upstream systems submit on `jobs.submit` with nats-py and follow the job's events:
no gateway involved."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import nats
import pytest
from nats.js.api import DeliverPolicy

from contracts import SubmitJob, streams, subjects
from tests.support import media
from tests.support.client import Api
from tests.support.stack import Stack


async def follow(
    js: nats.js.JetStreamContext, job_id: uuid.UUID, timeout: float = 120
) -> list[dict]:
    """Read jobs.events.<job_id> from the start until a terminal event (ordered consumer)."""
    sub = await js.subscribe(
        subjects.events_subject(job_id), ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    events: list[dict] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                msg = await sub.next_msg(timeout=timeout)
                events.append(json.loads(msg.data))
                if events[-1]["kind"] in {"completed", "failed", "cancelled"}:
                    return events
    finally:
        await sub.unsubscribe()


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


async def test_an_upstream_system_submits_on_nats_and_follows_events_to_completion(
    stack: Stack, api: Api, speech_mp3: Path
) -> None:
    file_id = api.upload(speech_mp3)["id"]  # media reaches S3 through the API (or directly)
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        job_id = uuid.uuid4()
        submit = SubmitJob(
            job_id=job_id,
            type="transcribe",
            file_id=file_id,  # type: ignore[arg-type]
            options={"language": "en"},
            correlation_id="upstream-42",
        )
        ack = await js.publish(
            subjects.JOBS_SUBMIT,
            submit.model_dump_json().encode(),
            headers={"Nats-Msg-Id": f"upstream-{job_id}"},
        )
        assert ack.stream == streams.JOBS_STREAM
        # The same idempotency key again is dropped by the stream's duplicate window.
        dup = await js.publish(
            subjects.JOBS_SUBMIT,
            submit.model_dump_json().encode(),
            headers={"Nats-Msg-Id": f"upstream-{job_id}"},
        )
        assert dup.duplicate

        events = await follow(js, job_id)
        kinds = [e["kind"] for e in events]
        assert kinds[0] == "queued" and kinds[-1] == "completed", kinds
        assert "started" in kinds
        assert all(e["correlation_id"] == "upstream-42" for e in events)
        text = events[-1]["result"]["text"]
        assert media.word_error_rate(media.SPEECH_TEXT, text) <= 0.15
    finally:
        await nc.drain()
    assert api.wait(str(job_id), 30)["status"] == "completed"


async def test_bad_submissions_on_nats_fail_with_a_code_and_are_not_redelivered(
    stack: Stack, api: Api, speech_mp3: Path
) -> None:
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        unknown = uuid.uuid4()
        await js.publish(
            subjects.JOBS_SUBMIT, json.dumps({"job_id": str(unknown), "type": "teleport"}).encode()
        )
        await js.publish(subjects.JOBS_SUBMIT, b"\x00 definitely not json")
        missing_file = uuid.uuid4()
        await js.publish(
            subjects.JOBS_SUBMIT,
            SubmitJob(
                job_id=missing_file,
                type="transcribe",
                file_id=uuid.uuid4(),  # type: ignore[arg-type]
            )
            .model_dump_json()
            .encode(),
        )

        failed = (await follow(js, unknown, timeout=30))[-1]
        assert failed["kind"] == "failed" and failed["error"]["code"] == "unknown_job_type"
        failed = (await follow(js, missing_file, timeout=30))[-1]
        assert failed["error"]["code"] == "file_not_found"
        assert api.wait(str(unknown), 30)["status"] == "failed"

        # The ledger kept running: a good submission still completes ...
        good = uuid.uuid4()
        file_id = api.upload(speech_mp3)["id"]
        await js.publish(
            subjects.JOBS_SUBMIT,
            SubmitJob(
                job_id=good,
                type="transcribe",
                file_id=file_id,
                options={"beam_size": 1},  # type: ignore[arg-type]
            )
            .model_dump_json()
            .encode(),
        )
        assert (await follow(js, good))[-1]["kind"] == "completed"
        # ... and nothing waits for redelivery: every submission was acked or terminated.
        info = await js.consumer_info(streams.JOBS_STREAM, streams.LEDGER_SUBMIT_CONSUMER)
        assert info.num_pending == 0 and info.num_ack_pending == 0
        assert info.num_redelivered == 0
    finally:
        await nc.drain()
