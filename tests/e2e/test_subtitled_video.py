"""Subtitles into the video through the real converter: soft tracks tagged per language
(ffprobe's verdict), burnt-in text (frames with and without compared at a cue's time),
bad subtitle files, and one pipeline from a video to a video with two languages."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import srt

from tests.support.client import Api
from tests.support.fake_llm import FakeLlm
from tests.support.infra import unavailable
from tests.support.stack import Stack

CUES_EN = (
    "1\n00:00:01,000 --> 00:00:03,000\nHello world\n\n"
    "2\n00:00:04,500 --> 00:00:30,000\nThis cue runs past the end\n"
)
CUES_DE = (
    "WEBVTT\n\nNOTE a comment\n\n00:01.000 --> 00:03.000 align:start\n<v Anna>Hallo Welt</v>\n"
)


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "converter", "srt-fixer", "gateway")


@pytest.fixture(scope="module")
def stack_env(llm: FakeLlm) -> dict[str, str]:
    return {
        "LLM_API_BASE": llm.api_base,
        "LLM_MODEL": "openai/fake-model",
        "LLM_API_KEY": "test-key",
        "MAX_UPLOAD_BYTES": str(5 * 1024 * 1024),
    }


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    if shutil.which("ffprobe") is None:
        unavailable("ffprobe", RuntimeError("ffmpeg not installed; run make system-deps"))
    return Api(stack.gateway_url, cache=False)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s of picture with two audio streams (a tone, and another tone)."""
    out = tmp_path_factory.mktemp("video") / "clip.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", "color=c=0x3050a0:size=320x240:rate=10:duration=6",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=6",
         "-f", "lavfi", "-i", "sine=frequency=660:duration=6",
         "-map", "0", "-map", "1", "-map", "2",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def subtitle_ids(api: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("subs")
    (tmp / "english.srt").write_text(CUES_EN)
    (tmp / "deutsch.vtt").write_text(CUES_DE)
    return {
        "en": api.upload(tmp / "english.srt", "application/x-subrip")["id"],
        "de": api.upload(tmp / "deutsch.vtt", "text/vtt")["id"],
    }


def fetch(url: str, path: Path) -> Path:
    path.write_bytes(httpx.get(url, timeout=60).content)
    return path


def streams(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)["streams"]  # type: ignore[no-any-return]


def track_text(path: Path, n: int) -> list[srt.Subtitle]:
    """Subtitle track `n` of the file, read back as SRT by ffmpeg."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", f"0:s:{n}", "-f", "srt", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return list(srt.parse(out.stdout))


def gray_frame(path: Path, at_s: float) -> bytes:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", str(at_s), "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return out.stdout


def difference(a: bytes, b: bytes) -> float:
    """Share of pixels that differ visibly (by more than 40 of 255)."""
    assert len(a) == len(b) and a
    return sum(abs(x - y) > 40 for x, y in zip(a, b, strict=True)) / len(a)


def convert(api: Api, file_id: str, **options: Any) -> dict[str, Any]:
    return api.wait(api.submit(file_id, type="convert", options=options)["id"])


@pytest.mark.parametrize(
    ("preset", "codec"), [("mp4", "mov_text"), ("mkv", "subrip"), ("webm", "webvtt")]
)
def test_subtitle_files_become_tracks_tagged_with_their_languages(
    api: Api, video: Path, subtitle_ids: dict[str, str], tmp_path: Path, preset: str, codec: str
) -> None:
    done = convert(
        api,
        api.upload(video)["id"],
        preset=preset,
        subtitles=[
            {"file_id": subtitle_ids["en"], "language": "en", "title": "English"},
            {"file_id": subtitle_ids["de"], "language": "ger", "title": "Deutsch"},
        ],
    )
    assert done["status"] == "completed", done["error"]
    out = fetch(done["result"]["url"], tmp_path / f"out.{preset}")
    kinds = [s["codec_type"] for s in streams(out)]
    assert kinds.count("video") == 1 and kinds.count("audio") == 2  # every stream kept
    subs = [s for s in streams(out) if s["codec_type"] == "subtitle"]
    assert [s["codec_name"] for s in subs] == [codec, codec]
    assert [s["tags"]["language"] for s in subs] == ["eng", "deu"]  # ISO 639-2/T
    titles = [s["tags"].get("title") or s["tags"].get("handler_name") for s in subs]
    assert titles == ["English", "Deutsch"]
    assert [s["disposition"]["default"] for s in subs] == [1, 0]
    english, german = track_text(out, 0), track_text(out, 1)
    assert [c.content for c in english] == ["Hello world", "This cue runs past the end"]
    assert english[1].end.total_seconds() <= 6.1  # trimmed to the video, not an error
    assert abs(done["result"]["duration_s"] - 6.0) < 0.3
    assert [c.content for c in german] == ["Anna: Hallo Welt"]


def test_a_trimmed_video_gets_its_subtitles_on_its_own_clock(
    api: Api, video: Path, subtitle_ids: dict[str, str], tmp_path: Path
) -> None:
    done = convert(
        api,
        api.upload(video)["id"],
        start_s=2.0,
        subtitles=[{"file_id": subtitle_ids["en"], "language": "eng"}],
    )
    assert done["status"] == "completed", done["error"]
    cues = track_text(fetch(done["result"]["url"], tmp_path / "trim.mp4"), 0)
    assert [(c.start.total_seconds(), c.content) for c in cues] == [
        (0.0, "Hello world"),
        (2.5, "This cue runs past the end"),
    ]
    assert cues[0].end.total_seconds() == pytest.approx(1.0)


def test_burnt_in_subtitles_change_the_picture_only_while_a_cue_shows(
    api: Api, video: Path, subtitle_ids: dict[str, str], tmp_path: Path
) -> None:
    source = api.upload(video)["id"]
    plain = convert(api, source, preset="mp4")
    burnt = convert(
        api,
        source,
        preset="mp4",
        burn_subtitles=True,
        subtitles=[{"file_id": subtitle_ids["en"]}],
        subtitle_style={"font_size": 28, "position": "middle", "outline": 2},
    )
    assert plain["status"] == burnt["status"] == "completed", burnt["error"]
    a = fetch(plain["result"]["url"], tmp_path / "plain.mp4")
    b = fetch(burnt["result"]["url"], tmp_path / "burnt.mp4")
    assert [s["codec_type"] for s in streams(b)].count("subtitle") == 0
    during = difference(gray_frame(a, 2.0), gray_frame(b, 2.0))  # "Hello world" shows
    between = difference(gray_frame(a, 3.8), gray_frame(b, 3.8))  # no cue at 3.8 s
    assert during > 0.01, during
    assert between < 0.001, between


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"", "has no cues"),
        (bytes(range(256)) * 8, "is not SRT or WebVTT"),
        (b"WEBVTT\n\n", "no cues"),
    ],
)
def test_an_unreadable_subtitle_file_fails_the_job_naming_the_file(
    api: Api, video: Path, tmp_path: Path, content: bytes, hint: str
) -> None:
    bad = tmp_path / "broken.srt"
    bad.write_bytes(content)
    done = convert(api, api.upload(video)["id"], subtitles=[{"file_id": api.upload(bad)["id"]}])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "unreadable_media"
    assert "'broken.srt'" in done["error"]["message"] and hint in done["error"]["message"]


@pytest.mark.parametrize(
    ("options", "code", "words"),
    [
        ({"preset": "mp3", "subtitles": [{"file_id": "SUB"}]}, "invalid_options", "need a video"),
        ({"burn_subtitles": True}, "invalid_options", "needs a file"),
        ({"subtitles": [{"file_id": "SUB"}], "subtitle_style": {}}, "invalid_options", "burn"),
        ({"subtitles": [{"file_id": "SUB", "language": "xq"}]}, "invalid_options", "'xq'"),
        ({"subtitles": [{"file_id": "SUB", "from_step": 1}]}, "invalid_options", "exactly one"),
        ({"subtitles": [{"from_step": 0}]}, "invalid_request", "not a step before 0"),
        (
            {"subtitles": [{"file_id": "7d3c0a62-3cb4-4f1c-9a44-1e0a5b0c0f00"}]},
            "file_not_found",
            "not found",
        ),
    ],
)
def test_subtitle_options_are_refused_at_submission(
    api: Api, video: Path, subtitle_ids: dict[str, str], options: dict, code: str, words: str
) -> None:
    raw = json.loads(json.dumps(options).replace('"SUB"', f'"{subtitle_ids["en"]}"'))
    r = api.http.post(
        "/v1/jobs", json={"type": "convert", "file_id": subtitle_ids["en"], "options": raw}
    )
    assert r.status_code in (404, 422), r.text
    error = r.json()["error"]
    assert error["code"] == code and words in error["message"], error


def test_one_request_makes_a_video_with_subtitles_in_two_languages(
    api: Api, llm: FakeLlm, speech_wav: Path, tmp_path: Path
) -> None:
    """video → generate_srt (step 0) → translate_srt (step 1) → convert of the original
    video with both SRTs (step 2)."""
    llm.behaviour = "upper"  # the scripted "translation": every cue in capitals
    talk = tmp_path / "talk.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
         "-i", str(speech_wav), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", str(talk)],
        check=True,
    )  # fmt: skip
    job = api.submit(
        api.upload(talk)["id"],
        type="generate_srt",
        options={"language": "en"},
        then=[
            {"type": "translate_srt", "options": {"target_language": "German"}},
            {
                "type": "convert",
                "input": {"from": "input"},
                "options": {
                    "preset": "mp4",
                    "subtitles": [
                        {"from_step": 0, "language": "en", "title": "English"},
                        {"from_step": 1, "language": "de", "title": "Deutsch"},
                    ],
                },
            },
        ],
    )
    done = api.wait(job["id"], 300)
    assert done["status"] == "completed", done["error"]
    assert [s["type"] for s in done["steps"]] == ["generate_srt", "translate_srt", "convert"]
    out = fetch(done["result"]["url"], tmp_path / "subtitled.mp4")
    kinds = [s["codec_type"] for s in streams(out)]
    assert kinds == ["video", "audio", "subtitle", "subtitle"]
    assert [s["tags"]["language"] for s in streams(out)[2:]] == ["eng", "deu"]
    english, german = track_text(out, 0), track_text(out, 1)
    assert english and [c.content.upper() for c in english] == [c.content for c in german]
    assert "MORNING" in " ".join(c.content for c in german)
    # The convert ran on the pipeline's input: the video the user uploaded.
    last = api.get(done["steps"][2]["job_id"])
    assert last["file_id"] == job["file_id"]


@pytest.mark.parametrize(
    ("then", "words"),
    [
        ([{"type": "convert", "input": {"from_step": 1}}], "is not a step before 1"),
        (
            [
                {
                    "type": "convert",
                    "input": {"from": "input"},
                    "options": {"subtitles": [{"from_step": 1}]},
                }
            ],
            "is not a step before 1",
        ),
        ([{"type": "fix_srt", "input": {"from": "input"}}], "cannot run on the pipeline's input"),
    ],
)
def test_step_references_are_checked_at_submission(
    api: Api, video: Path, then: list[dict], words: str
) -> None:
    body = {"type": "generate_srt", "file_id": api.upload(video)["id"], "then": then}
    r = api.http.post("/v1/jobs", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_request" and words in r.json()["error"]["message"]


def test_a_step_after_one_that_makes_no_file_runs_on_the_file_it_names(
    api: Api, llm: FakeLlm, speech_wav: Path
) -> None:
    """generate_srt → summarize (a result, no file) → fix_srt of step 0's subtitles."""
    llm.behaviour = "fix"
    job = api.submit(
        api.upload(speech_wav)["id"],
        type="generate_srt",
        options={"language": "en"},
        then=[{"type": "summarize"}, {"type": "fix_srt", "input": {"from_step": 0}}],
    )
    done = api.wait(job["id"], 300)
    assert done["status"] == "completed", done["error"]
    assert [s["status"] for s in done["steps"]] == ["completed"] * 3
    assert "changed_cues" in done["result"]  # the last step's (fix_srt's) result
    fixed = api.get(done["steps"][2]["job_id"])
    assert fixed["file_id"] == api.get(done["steps"][1]["job_id"])["file_id"]  # step 0's SRT
