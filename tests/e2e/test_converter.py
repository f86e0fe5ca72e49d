"""convert through the real services: presets, trims, bad input, and ffprobe's verdict."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.test_transcribe import short_sound_video
from tests.support.client import Api
from tests.support.infra import unavailable
from tests.support.stack import Stack
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    if shutil.which("ffprobe") is None:
        unavailable("ffprobe", RuntimeError("ffmpeg not installed; run make system-deps"))
    return Api(stack.gateway_url)


def ffprobe(url: str, tmp: Path, name: str) -> dict:
    path = tmp / name
    path.write_bytes(httpx.get(url, timeout=60).content)
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def convert(api: Api, file_id: str, **options: object) -> dict:
    job = api.submit(file_id, type="convert", options=options)
    return api.wait(job["id"])


def test_mp4_preset_gives_h264_and_aac_of_the_same_duration(
    api: Api, stack: Stack, speech_mkv: Path, tmp_path: Path
) -> None:
    source = api.upload(speech_mkv)
    done = convert(api, source["id"], preset="mp4")
    assert done["status"] == "completed", done
    result = done["result"]
    assert result["content_type"] == "video/mp4" and result["size"] > 0
    info = ffprobe(result["url"], tmp_path, "out.mp4")
    codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
    assert codecs == {"video": "h264", "audio": "aac"}
    original = ffprobe(api.http.get(f"/v1/files/{source['id']}").json()["url"], tmp_path, "in.mkv")
    assert abs(float(info["format"]["duration"]) - float(original["format"]["duration"])) <= 0.1
    assert abs(result["duration_s"] - float(info["format"]["duration"])) <= 0.1
    progress = asyncio.run(progress_events(stack.database_url, done["id"]))
    assert progress and progress == sorted(progress) and 0 < progress[-1] <= 1


async def progress_events(database_url: str, job_id: str) -> list[float]:
    """What ffmpeg's -progress output became: JobProgressed events, in order."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """SELECT (payload->>'progress')::float AS p FROM job_events
               WHERE job_id = $1::uuid AND kind = 'progressed' ORDER BY seq""",
            job_id,
        )
    finally:
        await conn.close()
    return [r["p"] for r in rows]


def test_the_transcription_preset_gives_16k_mono_pcm(
    api: Api, speech_mkv: Path, tmp_path: Path
) -> None:
    done = convert(api, api.upload(speech_mkv)["id"], preset="audio_wav_16k_mono")
    assert done["status"] == "completed", done
    [stream] = ffprobe(done["result"]["url"], tmp_path, "out.wav")["streams"]
    assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == (
        "pcm_s16le",
        "16000",
        1,
    )


def test_a_trim_keeps_only_the_asked_span(api: Api, speech_mp3: Path, tmp_path: Path) -> None:
    done = convert(api, api.upload(speech_mp3)["id"], preset="m4a", start_s=2, end_s=7)
    assert done["status"] == "completed", done
    info = ffprobe(done["result"]["url"], tmp_path, "out.m4a")
    assert abs(float(info["format"]["duration"]) - 5.0) <= 0.15


def test_a_corrupt_video_fails_as_unreadable_and_the_next_one_converts(
    api: Api, speech_mkv: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "broken.mkv"
    data = speech_mkv.read_bytes()
    corrupt.write_bytes(random.Random(7).randbytes(64) + data[4096:20000])
    failed = convert(api, api.upload(corrupt)["id"], preset="mp4")
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "unreadable_media"
    message = failed["error"]["message"]
    assert "Invalid data" in message or "EBML" in message or "invalid" in message.lower()
    assert "jetscribe-job-" not in message and "libav" not in message
    assert convert(api, api.upload(speech_mkv)["id"], preset="webm")["status"] == "completed"


@pytest.mark.parametrize("damage", ["truncated", "garbage after the header"])
def test_a_video_that_ends_early_or_turns_to_garbage_is_unreadable_not_converted(
    api: Api, speech_mkv: Path, tmp_path: Path, damage: str
) -> None:
    """ffmpeg exits 0 on both: the output's length, far below the stated one, tells."""
    data = speech_mkv.read_bytes()
    broken = tmp_path / "damaged.mkv"
    if damage == "truncated":
        broken.write_bytes(data[: len(data) * 3 // 10])
    else:
        broken.write_bytes(data[:4096] + random.Random(3).randbytes(len(data) - 4096))
    failed = convert(api, api.upload(broken)["id"], preset="mp4")
    assert failed["status"] == "failed", failed
    assert failed["error"]["code"] == "unreadable_media"


@pytest.mark.parametrize(
    "options",
    [
        {"preset": "mp3", "max_height": 480},
        {"preset": "mp4", "crf": 20, "video_bitrate": "1M"},
        {"preset": "avi"},
        {"preset": "mp4", "start_s": 5, "end_s": 2},
    ],
)
def test_invalid_option_combinations_are_422(api: Api, speech_mp3: Path, options: dict) -> None:
    file_id = api.upload(speech_mp3)["id"]
    r = api.http.post("/v1/jobs", json={"type": "convert", "file_id": file_id, "options": options})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_options"


def scratch_prefix(stack: Stack) -> str:
    """The converter's scratch directories are named after its process id."""
    converter = stack["converter"].popen
    assert converter is not None
    return f"jetscribe-job-{converter.pid}."


def ffmpeg_children(stack: Stack) -> list[str]:
    out = subprocess.run(
        ["pgrep", "-a", "-f", scratch_prefix(stack)], capture_output=True, text=True, check=False
    )
    return [line for line in out.stdout.splitlines() if "ffmpeg" in line]


@pytest.fixture(scope="module")
def five_minute_video(media_dir: Path) -> Path:
    """Five minutes of a moving test pattern and a tone (about 2 MB): slowed-down VP9 of
    it takes ffmpeg 20-30 s on 2 cores, so a cancel finds it running, and an
    ffmpeg gone seconds after the cancel was killed, not finished."""
    path = media_dir / "five-minutes.mkv"
    if not path.exists():
        args = (
            "ffmpeg -v error -y"
            " -f lavfi -i testsrc=size=160x120:rate=10:duration=300"
            " -f lavfi -i sine=frequency=440:duration=300"
            " -c:v libx264 -preset ultrafast -crf 40 -c:a libmp3lame -b:a 32k"
        )
        subprocess.run([*args.split(), str(path)], check=True)
    return path


def test_cancelling_a_conversion_kills_ffmpeg_and_leaves_nothing(
    api: Api, stack: Stack, speech_mkv: Path, five_minute_video: Path
) -> None:
    # VP9 of five minutes, slowed down: long enough to cancel while ffmpeg runs.
    job = api.submit(
        api.upload(five_minute_video)["id"], type="convert", options={"preset": "webm", "crf": 4}
    )
    wait_until(lambda: ffmpeg_children(stack), 60, "ffmpeg started")
    assert api.http.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
    cancelled = time.monotonic()
    wait_until(lambda: ffmpeg_children(stack) == [], 30, "ffmpeg gone after the cancel")
    # Killed, not finished: the whole encode takes 20-30 s on 2 cores; 10 s leaves a
    # loaded machine room for the cancel to reach the converter and ffmpeg to exit.
    assert time.monotonic() - cancelled < 10
    assert api.get(job["id"])["status"] == "cancelled"
    leftovers = list(Path(tempfile.gettempdir()).glob(scratch_prefix(stack) + "*"))
    assert leftovers == []
    # The converter goes on with the next job.
    assert convert(api, api.upload(speech_mkv)["id"], preset="mp3")["status"] == "completed"


def test_the_sound_of_a_video_whose_sound_ends_early_converts(
    api: Api, speech_wav: Path, tmp_path: Path
) -> None:
    video = short_sound_video(speech_wav, tmp_path / "talk.mkv")
    done = convert(api, api.upload(video)["id"], preset="audio_wav_16k_mono")
    assert done["status"] == "completed", done["error"]
