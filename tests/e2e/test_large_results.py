"""Results too large for a message travel by reference, and the API still returns them
whole (or, above RESULT_INLINE_MAX_BYTES, a summary with a link).

The module's NATS server takes messages of at most 8 KB, so a transcript of under a
minute of speech with word timings is already "too large" — as an 80-minute one is for
the default 1 MB. Before: `MaxPayloadError`, retried from scratch, never completed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest

from contracts import streams, subjects
from services.devstack import infra
from tests.support import media
from tests.support.client import Api
from tests.support.stack import Stack, object_store

pytestmark = pytest.mark.e2e
MAX_PAYLOAD = 8 * 1024


@pytest.fixture(scope="module")
def module_nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = infra.start_nats(tmp_path_factory.mktemp("nats") / "js", max_payload=MAX_PAYLOAD)
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "gateway")


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url, cache=False)


@pytest.fixture(scope="module")
def long_speech(media_dir: Path) -> Path:
    text = " ".join([media.SPEECH_TEXT] * 3)
    return media.encode_audio(
        media.speak(text, media_dir / "long.wav"), media_dir / "long.mp3", "libmp3lame"
    )


async def completed_event(stack: Stack, job_id: str) -> bytes:
    nc = await nats.connect(stack.nats_url)
    try:
        msg = await nc.jetstream().get_last_msg(
            streams.EVENTS_STREAM, subjects.events_subject(job_id)
        )
        return msg.data or b""
    finally:
        await nc.close()


def test_a_transcript_too_large_for_a_message_completes_and_is_returned_whole(
    api: Api, stack: Stack, long_speech: Path
) -> None:
    job = api.submit(api.upload(long_speech)["id"], options={"word_timestamps": True})
    done = api.wait(job["id"])
    assert done["status"] == "completed", done.get("error")
    assert done["attempt"] == 1
    result = done["result"]
    assert result["full_result"] is None  # the whole result, read back from S3
    words = [w for s in result["segments"] for w in s["words"]]
    assert len(words) > 60 and len(result["segments"]) >= 1

    event = asyncio.run(completed_event(stack, job["id"]))
    assert len(event) <= MAX_PAYLOAD
    carried = json.loads(event)["result"]
    assert carried["full_result"]["object_key"] == f"jobs/{job['id']}/result.json"
    assert len(json.dumps(result)) > MAX_PAYLOAD  # really too large for the message
    assert carried["text"] == result["text"][: len(carried["text"])].rstrip("…") or carried[
        "text"
    ].endswith("…")


def test_subtitles_too_large_for_a_message_come_back_whole(api: Api, long_speech: Path) -> None:
    short_cues = {"max_chars_per_line": 10, "max_lines_per_cue": 1}
    job = api.submit(api.upload(long_speech)["id"], type="generate_srt", options=short_cues)
    done = api.wait(job["id"])
    assert done["status"] == "completed", done.get("error")
    content = done["result"]["content"]
    assert content.count(" --> ") == done["result"]["cue_count"] > 10


def test_above_the_inline_limit_the_api_links_the_whole_result(
    api: Api, stack: Stack, long_speech: Path
) -> None:
    gateway = stack["gateway"]
    gateway.env["RESULT_INLINE_MAX_BYTES"] = "0"
    gateway.restart()
    try:
        job = api.submit(api.upload(long_speech)["id"], options={"word_timestamps": True})
        done = api.wait(job["id"])
        assert done["status"] == "completed"
        ref = done["result"]["full_result"]
        assert ref["size"] > MAX_PAYLOAD and ref["url"]
        whole = httpx.get(ref["url"], timeout=30).json()
        assert whole["segments"] and whole["segments"][0]["words"]
        assert len(done["result"]["segments"]) <= 5  # the summary
    finally:
        gateway.env.pop("RESULT_INLINE_MAX_BYTES")
        gateway.restart()


def test_a_page_of_jobs_fits_one_message_and_its_cursor_goes_on(api: Api) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        r = api.http.get("/v1/jobs", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [j["id"] for j in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 3  # every job of this module, none twice


def test_a_cache_hit_of_a_result_stored_by_reference_has_its_own_copy(
    api: Api, stack: Stack, long_speech: Path
) -> None:
    options = {"word_timestamps": True, "beam_size": 2}
    first = api.wait(api.submit(api.upload(long_speech)["id"], options=options, cache=True)["id"])
    again = api.submit(api.upload(long_speech)["id"], options=options, cache=True)
    hit = api.wait(again["id"])
    assert hit["status"] == "completed" and hit["result"]["cached_from"] == first["id"]
    assert hit["result"]["full_result"] is None  # the whole result, read back
    assert hit["result"]["segments"] == first["result"]["segments"]
    assert hit["result"]["file_id"] != first["result"]["file_id"]  # its own transcript file
    keys = asyncio.run(object_store(stack).list_keys(f"jobs/{again['id']}/"))
    assert f"jobs/{again['id']}/result.json" in keys  # outlives the job it came from
