"""Pipelines (`then`): video → convert → generate_srt in one request."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest
import srt

from tests.support import media
from tests.support.client import Api
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


def test_mkv_to_wav_to_srt_in_one_request(api: Api, speech_mkv: Path) -> None:
    job = api.submit(
        api.upload(speech_mkv)["id"],
        type="convert",
        options={"preset": "audio_wav_16k_mono"},
        then=[{"type": "generate_srt", "options": {"max_chars_per_line": 42}}],
    )
    assert [s["status"] for s in job["steps"]] == ["pending", "pending"]
    done = api.wait(job["id"])
    assert done["status"] == "completed", done
    assert [(s["type"], s["status"]) for s in done["steps"]] == [
        ("convert", "completed"),
        ("generate_srt", "completed"),
    ]
    result = done["result"]
    assert result["format"] == "srt" and done["progress"] == 1.0
    cues = list(srt.parse(httpx.get(result["url"], timeout=30).text))
    assert cues and all(len(line) <= 42 for c in cues for line in c.content.splitlines())
    spoken = " ".join(c.content.replace("\n", " ") for c in cues)
    assert media.word_error_rate(media.SPEECH_TEXT, spoken) <= 0.15

    # The top-level job ran step 0; step 1 is a job of its own, run on step 0's output.
    assert done["steps"][0]["job_id"] == job["id"]
    second = api.get(done["steps"][1]["job_id"])
    wav = api.http.get(f"/v1/files/{second['file_id']}").json()
    assert wav["content_type"] == "audio/wav" and wav["job_id"] == job["id"]
    assert second["result"] == {**done["result"], "url": second["result"]["url"]}
    assert done["output_file_ids"] == second["output_file_ids"]


def test_a_failed_step_fails_the_pipeline_and_later_steps_never_run(
    api: Api, speech_mkv: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "broken.mkv"
    corrupt.write_bytes(random.Random(7).randbytes(64) + speech_mkv.read_bytes()[4096:20000])
    job = api.submit(
        api.upload(corrupt)["id"],
        type="convert",
        options={"preset": "audio_wav_16k_mono"},
        then=[{"type": "generate_srt"}],
    )
    done = api.wait(job["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "unreadable_media"
    assert [s["status"] for s in done["steps"]] == ["failed", "pending"]
    assert done["steps"][1]["job_id"] is None


def test_invalid_options_in_a_later_step_are_422(api: Api, speech_mkv: Path) -> None:
    r = api.http.post(
        "/v1/jobs",
        json={
            "type": "convert",
            "file_id": api.upload(speech_mkv)["id"],
            "then": [{"type": "generate_srt", "options": {"format": "ass"}}],
        },
    )
    assert r.status_code == 422
    assert "then[0].options.format" in r.json()["error"]["message"]


def test_a_chain_whose_step_cannot_read_the_previous_output_is_422(
    api: Api, speech_mkv: Path
) -> None:
    r = api.http.post(
        "/v1/jobs",
        json={
            "type": "transcribe",
            "file_id": api.upload(speech_mkv)["id"],
            "then": [{"type": "generate_srt"}],
        },
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert "generate_srt cannot run on the output of transcribe" in error["message"]
