"""generate_srt through the real services: SRT/VTT that parse and that ffmpeg reads."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import srt

from tests.support import media
from tests.support.client import Api
from tests.support.infra import unavailable
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


def test_an_srt_is_generated_downloadable_and_readable_by_ffmpeg(
    api: Api, speech_mp4: Path, tmp_path: Path
) -> None:
    job = api.submit(
        api.upload(speech_mp4)["id"], type="generate_srt", options={"max_chars_per_line": 32}
    )
    done = api.wait(job["id"])
    assert done["status"] == "completed", done
    result = done["result"]
    assert result["format"] == "srt" and result["language"] == "en"
    cues = list(srt.parse(result["content"]))
    assert len(cues) == result["cue_count"] > 3
    for cue in cues:
        assert all(len(line) <= 32 for line in cue.content.splitlines()), cue.content
        assert len(cue.content.splitlines()) <= 2
        assert cue.end > cue.start
    assert all(a.end <= b.start for a, b in itertools.pairwise(cues))
    spoken = " ".join(c.content.replace("\n", " ") for c in cues)
    assert media.word_error_rate(media.SPEECH_TEXT, spoken) <= 0.15

    body = httpx.get(result["url"], timeout=30)  # presigned, fresh at every read
    assert body.status_code == 200 and body.text == result["content"]
    if shutil.which("ffmpeg") is None:
        unavailable("ffmpeg", RuntimeError("ffmpeg not installed; run make system-deps"))
    (tmp_path / "out.srt").write_text(body.text)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(tmp_path / "out.srt"),
            str(tmp_path / "out.vtt"),
        ],
        check=True,
    )
    assert (tmp_path / "out.vtt").read_text().startswith("WEBVTT")


def test_vtt_is_generated_with_a_header_and_dot_milliseconds(api: Api, speech_mp3: Path) -> None:
    job = api.submit(
        api.upload(speech_mp3)["id"],
        type="generate_srt",
        options={"format": "vtt", "language": "en"},
    )
    done = api.wait(job["id"])
    content = done["result"]["content"]
    assert done["status"] == "completed" and content.startswith("WEBVTT\n\n")
    first_timing = next(line for line in content.splitlines() if "-->" in line)
    assert "." in first_timing and "," not in first_timing
    meta = api.http.get(f"/v1/files/{done['result']['file_id']}").json()
    assert meta["filename"] == "subtitles.vtt" and meta["content_type"] == "text/vtt"


def test_invalid_subtitle_options_are_422(api: Api, speech_mp3: Path) -> None:
    file_id = api.upload(speech_mp3)["id"]
    r = api.http.post(
        "/v1/jobs", json={"type": "generate_srt", "file_id": file_id, "options": {"format": "ass"}}
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_options"
    assert "options.format" in r.json()["error"]["message"]
