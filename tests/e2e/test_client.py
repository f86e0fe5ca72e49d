"""The typed Python client (`jetscribe.client`) and the NATS helper (`jetscribe.upstream`)
against the real stack: upload, submit (job, pipeline, batch), wait, follow with a
dropped connection resumed, cancel, download, and the stable error codes."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from pathlib import Path

import nats
import pytest

from contracts import (
    JobCompleted,
    JobEvent,
    JobProgressed,
    JobQueued,
    JobStatus,
    PipelineStep,
    SubmitJob,
)
from jetscribe import upstream
from jetscribe.client import AsyncClient, Client, JetscribeError
from tests.support import media
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def js(stack: Stack) -> Client:
    return Client(stack.gateway_url)


@pytest.fixture(scope="module")
def short_wav(media_dir: Path) -> Path:
    return media.speak("Hello from the typed client.", media_dir / "client-short.wav")


def test_upload_reports_bytes_and_returns_the_file(js: Client, speech_wav: Path) -> None:
    seen: list[int] = []
    record = js.upload(speech_wav, on_progress=seen.append)
    size = speech_wav.stat().st_size
    assert record.size == size and record.filename == "speech.wav"
    assert record.content_type == "audio/x-wav" or record.content_type.startswith("audio/")
    assert seen and seen[-1] == size and seen == sorted(seen)
    assert js.get_file(record.id).sha256 == record.sha256


def test_submit_wait_and_download_a_transcript(js: Client, short_wav: Path, tmp_path: Path) -> None:
    file = js.upload(short_wav)
    job = js.submit("transcribe", file.id, options={"language": "en"}, cache=False)
    assert job.status is JobStatus.PENDING
    done = js.wait(job.id, timeout=120)
    assert done.status is JobStatus.COMPLETED and done.result is not None
    assert "client" in done.result["text"].lower()
    saved = js.download(done.result["file_id"], tmp_path)
    assert saved == tmp_path / "transcript.json"
    assert json.loads(saved.read_text())["text"] == done.result["text"]
    page = js.jobs(type="transcribe", limit=5)
    assert done.id in [j.id for j in page.items]


def test_follow_yields_typed_events_in_order_until_the_end(js: Client, short_wav: Path) -> None:
    file = js.upload(short_wav)
    job = js.submit("transcribe", file.id, cache=False)
    events = list(js.follow(job.id))
    assert isinstance(events[0], JobQueued) and isinstance(events[-1], JobCompleted)
    assert all(e.job_id == job.id for e in events)
    progress = [e.progress for e in events if isinstance(e, JobProgressed)]
    assert progress == sorted(progress)
    history = list(js.follow(job.id, live=False))  # the same, read again, ends at once
    assert [e.event_id for e in history] == [e.event_id for e in events]


def test_a_pipeline_ends_with_its_last_step(js: Client, speech_mp4: Path) -> None:
    file = js.upload(speech_mp4)
    job = js.submit(
        "convert",
        file.id,
        options={"preset": "audio_wav_16k_mono"},
        then=[PipelineStep(type="generate_srt", options={"format": "vtt"})],
    )
    kinds = [e.kind for e in js.follow(job.id)]
    assert kinds.count("completed") == 2, kinds  # the first step's, then the pipeline's
    done = js.get(job.id)
    assert done.status is JobStatus.COMPLETED and done.result is not None
    assert done.result["content"].startswith("WEBVTT")


def test_a_batch_and_its_children(js: Client, short_wav: Path, speech_wav: Path) -> None:
    ids = [js.upload(p).id for p in (short_wav, speech_wav)]
    batch = js.submit_batch("transcribe", ids, options={"language": "en"})
    done = js.wait(batch.id, timeout=180)
    assert done.status is JobStatus.COMPLETED and done.result is not None
    assert done.result["completed"] == 2
    children = js.jobs(parent_id=batch.id).items
    assert sorted(c.file_id for c in children if c.file_id) == sorted(ids)


@pytest.fixture
def a_wav(tmp_path: Path) -> Path:
    path = tmp_path / "a.wav"
    path.write_bytes(b"RIFF")
    return path


def test_errors_carry_the_stable_code(js: Client, a_wav: Path) -> None:
    with pytest.raises(JetscribeError) as raised:
        js.submit("transcribe", uuid.uuid4())
    assert (raised.value.code, raised.value.status) == ("file_not_found", 404)
    with pytest.raises(JetscribeError) as raised:
        js.get(uuid.uuid4())
    assert raised.value.code == "job_not_found"
    with pytest.raises(JetscribeError) as raised:
        list(js.follow(uuid.uuid4()))
    assert raised.value.code == "job_not_found"
    with pytest.raises(JetscribeError) as raised:
        js.submit("transcribe", js.upload(a_wav).id, options={"beam": 1})
    assert raised.value.code == "invalid_options" and "beam" in raised.value.message
    with Client("http://127.0.0.1:9") as nowhere, pytest.raises(JetscribeError) as raised:
        nowhere.get(uuid.uuid4())
    assert raised.value.code == "unreachable" and "127.0.0.1:9" in raised.value.message


def test_cancel_a_running_job(js: Client, speech_wav: Path) -> None:
    file = js.upload(speech_wav)
    job = js.submit("transcribe", file.id, options={"beam_size": 5, "batch_size": 1}, cache=False)
    cancelled = js.cancel(job.id)
    assert cancelled.id == job.id
    assert js.wait(job.id, timeout=60).status is JobStatus.CANCELLED
    with pytest.raises(JetscribeError) as raised:
        js.cancel(job.id)
    assert (raised.value.code, raised.value.status) == ("job_finished", 409)


async def test_the_async_client_resumes_a_dropped_stream_without_gap_or_repeat(
    stack: Stack, speech_wav: Path
) -> None:
    async with AsyncClient(stack.gateway_url) as client:
        file = await client.upload(speech_wav)
        job = await client.submit("transcribe", file.id, options={"batch_size": 1}, cache=False)
        seen: list[JobEvent] = []
        first = asyncio.Event()

        async def follow() -> None:
            async for event in client.follow(job.id):
                seen.append(event)
                first.set()

        following = asyncio.create_task(follow())
        await asyncio.wait_for(first.wait(), 30)
        gateway = stack["gateway"]
        await asyncio.to_thread(gateway.stop, signal.SIGKILL)  # the connection drops
        await asyncio.to_thread(gateway.start)
        await asyncio.to_thread(gateway.wait_ready)
        await asyncio.wait_for(following, 180)

        history = [e async for e in client.follow(job.id)]
    assert [e.event_id for e in seen] == [e.event_id for e in history]
    assert seen[-1].kind == "completed"


async def test_upstream_submits_on_nats_and_follows_a_pipeline_to_its_end(
    stack: Stack, js: Client, speech_mp4: Path
) -> None:
    file = js.upload(speech_mp4)
    nc = await nats.connect(stack.nats_url)
    try:
        job_id = await upstream.submit(
            nc,
            SubmitJob(
                job_id=uuid.uuid4(),
                type="convert",
                file_id=file.id,
                options={"preset": "audio_wav_16k_mono"},
                then=[PipelineStep(type="generate_srt")],
                idempotency_key=f"order-{uuid.uuid4()}",
            ),
        )
        events = [e async for e in upstream.follow(nc, job_id, idle_timeout=120)]
    finally:
        await nc.close()
    kinds = [e.kind for e in events]
    assert kinds[0] == "queued" and kinds.count("completed") == 2, kinds
    last = events[-1]
    assert isinstance(last, JobCompleted) and last.result.type == "generate_srt"
    assert js.get(job_id).status is JobStatus.COMPLETED
