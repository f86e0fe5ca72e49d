"""Upload → submit → result through the real gateway, ledger and transcriber processes."""

from __future__ import annotations

import json
import random
import subprocess
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support import media
from tests.support.client import Api
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


def check_transcript(job: dict, reference: str) -> None:
    assert job["status"] == "completed", job
    result = job["result"]
    assert result["language"] == "en"
    assert job["language"] == "en"
    wer = media.word_error_rate(reference, result["text"])
    assert wer <= 0.15, f"WER {wer:.2%}: {result['text']}"
    created, started, finished = (
        datetime.fromisoformat(job[k]) for k in ("created_at", "started_at", "finished_at")
    )
    assert created <= started <= finished
    assert job["progress"] == 1.0
    assert result["segments"] and result["duration_s"] > 25


def test_a_30_second_english_wav_is_transcribed(api: Api, speech_wav: Path) -> None:
    uploaded = api.upload(speech_wav, "audio/wav")
    assert uploaded["size"] == speech_wav.stat().st_size
    assert uploaded["duration_s"] is None  # not decoded yet
    job = api.submit(uploaded["id"])
    assert job["status"] == "pending"
    done = api.wait(job["id"])
    check_transcript(done, media.SPEECH_TEXT)
    input_file = api.http.get(f"/v1/files/{uploaded['id']}").json()
    assert input_file["duration_s"] == done["result"]["duration_s"]

    # The transcript is a registered file, downloadable through a presigned URL.
    transcript_id = done["result"]["file_id"]
    assert done["output_file_ids"] == [transcript_id]
    meta = api.http.get(f"/v1/files/{transcript_id}").json()
    assert meta["content_type"] == "application/json" and meta["job_id"] == job["id"]
    redirect = api.http.get(f"/v1/files/{transcript_id}/content")
    assert redirect.status_code == 307
    body = httpx.get(redirect.headers["location"], timeout=30)
    assert body.status_code == 200
    assert json.loads(body.content)["text"] == done["result"]["text"]


@pytest.mark.parametrize("fixture", ["speech_mp3", "speech_mp4", "speech_mkv", "speech_webm"])
def test_mp3_mp4_mkv_and_webm_inputs_are_transcribed(
    api: Api, fixture: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(fixture)
    job = api.submit(api.upload(path)["id"], options={"language": "en", "beam_size": 1})
    check_transcript(api.wait(job["id"]), media.SPEECH_TEXT)


async def test_postgres_holds_the_job_and_its_events_in_order(
    api: Api, stack: Stack, speech_mp3: Path
) -> None:
    job = api.submit(api.upload(speech_mp3)["id"])
    assert api.wait(job["id"])["status"] == "completed"
    conn = await asyncpg.connect(stack.database_url)
    try:
        row = await conn.fetchrow("SELECT status, result FROM jobs WHERE id = $1::uuid", job["id"])
        kinds = [
            r["kind"]
            for r in await conn.fetch(
                "SELECT kind FROM job_events WHERE job_id = $1::uuid ORDER BY seq", job["id"]
            )
        ]
    finally:
        await conn.close()
    assert row["status"] == "completed" and row["result"] is not None
    assert kinds[0] == "queued" and kinds[1] == "started" and kinds[-1] == "completed"
    assert set(kinds[2:-1]) == {"progressed"}, kinds


def test_a_file_that_is_not_media_fails_and_the_next_job_still_runs(
    api: Api, not_media: Path, speech_mp3: Path
) -> None:
    bad = api.submit(api.upload(not_media)["id"])
    good = api.submit(api.upload(speech_mp3)["id"], options={"beam_size": 1})
    failed = api.wait(bad["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "unreadable_media"
    assert failed["error"]["message"].startswith("cannot decode media: ")
    assert "/tmp" not in failed["error"]["message"], "our temp paths are not the client's business"
    assert failed["attempt"] == 1, "a permanent failure must not be retried"
    assert api.wait(good["id"])["status"] == "completed"


@pytest.mark.parametrize("damage", ["truncated", "garbage after the header"])
@pytest.mark.parametrize("job_type", ["transcribe", "generate_srt"])
def test_a_damaged_file_fails_as_unreadable_not_an_empty_transcript(
    api: Api, speech_mkv: Path, tmp_path: Path, damage: str, job_type: str
) -> None:
    """PyAV decodes both without an error: to a fraction of the stated length, which
    used to complete with an empty (or cut) transcript and no cues."""
    data = speech_mkv.read_bytes()
    broken = tmp_path / "damaged.mkv"
    if damage == "truncated":
        broken.write_bytes(data[: len(data) * 3 // 10])
    else:
        broken.write_bytes(data[:4096] + random.Random(3).randbytes(len(data) - 4096))
    failed = api.wait(api.submit(api.upload(broken)["id"], type=job_type)["id"])
    assert failed["status"] == "failed", failed
    assert failed["error"]["code"] == "unreadable_media"
    assert "ends early" in failed["error"]["message"] or "decode" in failed["error"]["message"]


def test_the_seed_alias_takes_an_upload_with_options(api: Api, speech_mp3: Path) -> None:
    with speech_mp3.open("rb") as fh:
        r = api.http.post(
            "/transcribe",
            files={"file": ("talk.mp3", fh, "audio/mpeg")},
            data={"language": "en", "beam_size": "2"},
        )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    r = api.http.get(f"/transcribe/{job_id}", params={"wait": 120})
    body = r.json()
    assert body["status"] == "completed" and body["language"] == "en"
    assert media.word_error_rate(media.SPEECH_TEXT, body["result"]["text"]) <= 0.15


def test_wait_returns_at_once_when_the_time_is_up(api: Api, speech_wav: Path) -> None:
    job = api.submit(api.upload(speech_wav)["id"])
    r = api.http.get(f"/v1/jobs/{job['id']}", params={"wait": 0.2})
    assert r.status_code == 200 and r.json()["id"] == job["id"]
    assert api.wait(job["id"])["status"] == "completed"


def test_jobs_are_listed_newest_first_with_a_cursor(api: Api, speech_wav: Path) -> None:
    file_id = api.upload(speech_wav)["id"]
    ids = [api.submit(file_id, options={"beam_size": 1})["id"] for _ in range(3)]
    page = api.http.get("/v1/jobs", params={"limit": 2, "type": "transcribe"}).json()
    assert [j["id"] for j in page["items"]] == ids[::-1][:2]
    rest = api.http.get("/v1/jobs", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] == ids[0]
    for job_id in ids:
        api.wait(job_id)
    done = api.http.get("/v1/jobs", params={"status": "completed", "limit": 500}).json()
    assert set(ids) <= {j["id"] for j in done["items"]}


def short_sound_video(speech: Path, out: Path) -> Path:
    """A video whose sound ends long before its picture (a common, healthy file)."""
    picture = "testsrc=size=160x120:rate=10:duration=60"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", picture, "-i", str(speech),
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libmp3lame", str(out)],
        check=True,
    )  # fmt: skip
    return out


def test_a_video_whose_sound_ends_before_its_picture_is_transcribed(
    api: Api, speech_wav: Path, tmp_path: Path
) -> None:
    video = short_sound_video(speech_wav, tmp_path / "talk.mkv")
    done = api.wait(api.submit(api.upload(video)["id"], options={"language": "en"})["id"])
    assert done["status"] == "completed", done["error"]
    assert done["result"]["text"].strip()
