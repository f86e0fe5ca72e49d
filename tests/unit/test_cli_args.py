"""The `jetscribe` command's arguments and pure helpers: usage errors exit 2 with a clear
message before anything is sent; outputs are named after their inputs and never replace
one; folders expand to their media files; progress follows a job's events."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from typer.testing import CliRunner

from contracts import (
    ConvertOptions,
    ErrorInfo,
    FixSrtResult,
    JobCompleted,
    JobFailed,
    JobProgressed,
    JobQueued,
    JobRequeued,
    JobStarted,
    JobType,
    LlmUsage,
    SrtResult,
)
from jetscribe.cli import app, runtime
from jetscribe.cli.inputs import NoMediaError, expand, is_media
from jetscribe.cli.outputs import OutputNamer, ResultError, content_of, download_name
from jetscribe.cli.plans import Format, PlanError, Preset, convert_plan, fix_plan, transcribe_plan
from jetscribe.cli.progress import BarState
from jetscribe.client import AsyncClient

pytestmark = pytest.mark.unit

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    # typer frames errors in a box on a narrow terminal: the words, without the frame.
    flat = re.sub(r"[\s│╭╮╰╯─]+", " ", result.output)
    return result.exit_code, flat


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "talk.wav"
    path.write_bytes(b"RIFF....WAVE")
    return path


# --- usage errors: exit 2, a clear message --------------------------------------------


def test_an_unknown_format_is_a_usage_error(wav: Path) -> None:
    code, output = invoke("transcribe", str(wav), "--format", "xml")
    assert code == 2
    assert "--format" in output and "xml" in output


@pytest.mark.parametrize("fmt", ["text", "json", "vtt"])
def test_fix_with_a_format_other_than_srt_is_a_usage_error(wav: Path, fmt: str) -> None:
    code, output = invoke("transcribe", str(wav), "--fix", "--format", fmt)
    assert code == 2
    assert "--fix works on SRT subtitles" in output and fmt in output


def test_translate_with_text_is_a_usage_error(wav: Path) -> None:
    code, output = invoke("transcribe", str(wav), "--translate", "German", "--format", "text")
    assert code == 2
    assert "--translate works on SRT subtitles" in output


def test_a_missing_file_argument_is_a_usage_error() -> None:
    code, output = invoke("transcribe")
    assert code == 2
    assert "Missing argument" in output and "FILE|DIR" in output


def test_a_nonexistent_file_is_a_usage_error(tmp_path: Path) -> None:
    code, output = invoke("transcribe", str(tmp_path / "nope.wav"))
    assert code == 2
    assert "nope.wav" in output and "does not exist" in output


def test_a_folder_without_media_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    code, output = invoke("transcribe", str(tmp_path))
    assert code == 2
    assert "no audio or video file" in output


def test_an_unknown_preset_is_a_usage_error(wav: Path) -> None:
    code, output = invoke("convert", str(wav), "--preset", "avi")
    assert code == 2
    assert "--preset" in output and "avi" in output


def test_convert_needs_a_preset(wav: Path) -> None:
    code, output = invoke("convert", str(wav))
    assert code == 2
    assert "Missing option" in output and "--preset" in output


def test_fix_takes_files_not_folders(tmp_path: Path) -> None:
    code, output = invoke("fix", str(tmp_path))
    assert code == 2
    assert "is a directory" in output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["jobs", "--status", "sleeping"], "--status"),
        (["jobs", "--type", "teleport"], "--type"),
        (["jobs", "--limit", "0"], "--limit"),
        (["job", "not-a-uuid"], "should be a valid UUID"),
        (["cancel", "12"], "should be a valid UUID"),
        (["download"], "Missing argument"),
    ],
)
def test_bad_job_arguments_are_usage_errors(args: list[str], words: str) -> None:
    code, output = invoke(*args)
    assert code == 2
    assert words in output


def test_help_lists_every_command() -> None:
    code, output = invoke("--help")
    assert code == 0
    for command in ("transcribe", "convert", "fix", "jobs", "job", "follow", "cancel", "download"):
        assert command in output


# --- against a fake API (no socket): errors are one line, --json is JSON ---------------


def fake_api(
    monkeypatch: pytest.MonkeyPatch, handler: Callable[[httpx.Request], httpx.Response]
) -> None:
    def client(self: runtime.Connection) -> AsyncClient:
        return AsyncClient(self.server, self.api_key, transport=httpx.MockTransport(handler))

    monkeypatch.setattr(runtime.Connection, "client", client)


def job_json(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid4()),
        "type": "transcribe",
        "status": "completed",
        "progress": 1.0,
        "created_at": datetime.now(UTC).isoformat(),
        **fields,
    }


def test_an_unreachable_server_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    fake_api(monkeypatch, refuse)
    result = runner.invoke(app, ["--server", "http://127.0.0.1:9", "jobs"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: unreachable: cannot reach http://127.0.0.1:9: Connection refused"
    ]
    assert "Traceback" not in result.output


def test_jobs_json_is_the_page_and_the_table_shows_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    jobs = [
        job_json(),
        job_json(status="failed", error={"code": "unreadable_media", "message": "x"}),
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": jobs, "next_cursor": None})

    fake_api(monkeypatch, answer)
    result = runner.invoke(app, ["jobs", "--json", "--status", "failed", "--type", "transcribe"])
    assert result.exit_code == 0, result.output
    assert [j["id"] for j in json.loads(result.stdout)["items"]] == [j["id"] for j in jobs]
    assert seen[0].url.params["status"] == "failed" and seen[0].url.params["type"] == "transcribe"
    table = runner.invoke(app, ["jobs"])
    assert table.exit_code == 0
    assert all(j["id"] in table.stdout for j in jobs) and "unreadable_media" in table.stdout


def test_an_api_error_answer_is_its_code_and_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def finished(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "job_finished", "message": "job is already completed"}}
        return httpx.Response(409, json=body)

    fake_api(monkeypatch, finished)
    result = runner.invoke(app, ["cancel", str(uuid4()), "--json"])
    assert result.exit_code == 1
    assert "error: job_finished: job is already completed" in result.stderr
    assert json.loads(result.stdout)["error"]["code"] == "job_finished"


def test_env_vars_name_the_server_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": []})

    fake_api(monkeypatch, answer)
    env = {"JETSCRIBE_URL": "http://jetscribe.test:1234", "JETSCRIBE_API_KEY": "js_secret"}
    assert runner.invoke(app, ["jobs"], env=env).exit_code == 0
    assert str(seen[-1].url).startswith("http://jetscribe.test:1234/v1/jobs")
    assert seen[-1].headers["authorization"] == "Bearer js_secret"
    # A command's own option wins over the variable.
    assert runner.invoke(app, ["jobs", "--server", "http://other.test"], env=env).exit_code == 0
    assert seen[-1].url.host == "other.test"


# --- plans ------------------------------------------------------------------------------


def test_transcribe_defaults_to_text_and_fix_to_srt() -> None:
    text = transcribe_plan(None, "en", False, None)
    assert (text.type, text.options, text.suffix, text.then) == (
        "transcribe",
        {"language": "en"},
        ".txt",
        [],
    )
    fixed = transcribe_plan(None, None, True, "German")
    assert fixed.type == "generate_srt" and fixed.options == {"format": "srt"}
    assert fixed.then == [
        {"type": "fix_srt", "options": {}},
        {"type": "translate_srt", "options": {"target_language": "German"}},
    ]
    assert (fixed.suffix, fixed.writes, fixed.steps, fixed.last_type) == (
        ".srt",
        "srt",
        3,
        "translate_srt",
    )
    vtt = transcribe_plan(Format.VTT, None, False, None)
    assert (vtt.type, vtt.options, vtt.suffix) == ("generate_srt", {"format": "vtt"}, ".vtt")
    assert transcribe_plan(Format.JSON, None, False, None).suffix == ".json"
    labelled = transcribe_plan(Format.VTT, None, False, None, diarize=True)
    assert (labelled.type, labelled.options) == ("generate_srt", {"format": "vtt", "diarize": True})
    assert transcribe_plan(Format.JSON, "en", False, None, True).options == {
        "language": "en",
        "diarize": True,
    }


def test_translate_needs_a_language() -> None:
    with pytest.raises(PlanError, match="target language"):
        transcribe_plan(None, None, False, "  ")


def test_presets_are_the_converters_and_each_has_an_extension() -> None:
    field = ConvertOptions.model_fields["preset"].annotation
    assert {p.value for p in Preset} == set(typing.get_args(field))
    assert convert_plan("audio_wav_16k_mono").suffix == ".wav"
    assert convert_plan("mp3").options == {"preset": "mp3"}
    assert fix_plan("de").options == {"language": "de"} and fix_plan(None).suffix == ".fixed.srt"


# --- outputs ----------------------------------------------------------------------------


def test_outputs_never_replace_an_input(tmp_path: Path) -> None:
    source = tmp_path / "a.wav"
    source.write_bytes(b"x")
    namer = OutputNamer(tmp_path, [source])
    assert namer.name("a", ".wav") == tmp_path / "a-1.wav"
    assert namer.name("a", ".srt") == tmp_path / "a.srt"


def test_two_inputs_of_one_stem_get_two_outputs(tmp_path: Path) -> None:
    namer = OutputNamer(tmp_path / "out", [tmp_path / "x" / "talk.wav", tmp_path / "talk.mp3"])
    names = [namer.name("talk", ".srt") for _ in range(3)]
    assert [p.name for p in names] == ["talk.srt", "talk-1.srt", "talk-2.srt"]


def test_an_existing_output_that_is_no_input_is_written_again(tmp_path: Path) -> None:
    (tmp_path / "talk.srt").write_text("old")
    assert OutputNamer(tmp_path, [tmp_path / "talk.wav"]).name("talk", ".srt").name == "talk.srt"


@pytest.mark.parametrize(
    ("source", "output", "name"),
    [
        ("talk.mp4", "transcript.json", "talk.json"),
        ("talk.mp4", "subtitles.srt", "talk.srt"),
        ("talk.srt", "fixed.srt", "talk.fixed.srt"),
        ("talk.wav", "converted.wav", "talk.converted.wav"),
        (None, "converted.mp3", "converted.mp3"),
    ],
)
def test_downloads_are_named_after_their_input(source: str | None, output: str, name: str) -> None:
    stem, suffix = download_name(source, output)
    assert f"{stem}{suffix}" == name


def test_each_format_writes_its_part_of_the_result() -> None:
    result = {"type": "transcribe", "text": "Hello there.", "segments": []}
    assert content_of(result, "text") == "Hello there.\n"
    assert json.loads(content_of(result, "json")) == result
    subtitles = {"type": "generate_srt", "content": "1\n00:00:00,000 --> 00:00:01,000\nHi\n"}
    assert content_of(subtitles, "srt") == subtitles["content"]
    with pytest.raises(ResultError, match="no 'content'"):
        content_of(result, "vtt")


# --- inputs -----------------------------------------------------------------------------


def test_a_folder_expands_to_its_media_files_only_not_below(tmp_path: Path) -> None:
    for name in ("b.mp3", "a.wav", "c.mkv", "notes.txt", "talk.srt", "d.MP4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.wav").write_bytes(b"x")
    names = [p.name for p in expand([tmp_path])]
    assert names == ["a.wav", "b.mp3", "c.mkv", "d.MP4"]


def test_files_are_taken_as_named_and_once(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("x")
    (tmp_path / "a.wav").write_bytes(b"x")
    assert expand([text, tmp_path / "a.wav", tmp_path, text]) == [text, tmp_path / "a.wav"]


def test_an_empty_folder_has_no_media(tmp_path: Path) -> None:
    with pytest.raises(NoMediaError):
        expand([tmp_path])


@pytest.mark.parametrize(
    ("name", "media"),
    [("a.wav", True), ("a.opus", True), ("a.webm", True), ("a.m4a", True), ("a.srt", False)],
)
def test_media_is_known_by_extension(name: str, media: bool) -> None:
    assert is_media(Path(name)) is media


# --- progress -----------------------------------------------------------------------------


def srt_completed(job_id: UUID) -> JobCompleted:
    result = SrtResult(file_id=uuid4(), format="srt", content="", cue_count=1, language="en")
    return JobCompleted(job_id=job_id, result=result)


def fix_completed(job_id: UUID) -> JobCompleted:
    result = FixSrtResult(file_id=uuid4(), content="", changed_cues=0, model="m", usage=LlmUsage())
    return JobCompleted(job_id=job_id, result=result)


def test_a_pipelines_first_step_is_its_share_and_its_completion_not_the_jobs() -> None:
    job_id = uuid4()
    bar = BarState(steps=2, last_type="fix_srt")
    bar.apply(JobQueued(job_id=job_id, type=JobType.GENERATE_SRT))
    assert bar.state == "queued"
    bar.apply(JobStarted(job_id=job_id))
    bar.apply(JobProgressed(job_id=job_id, progress=0.5))
    assert bar.progress == 0.25 and bar.state == "processing, step 1/2"
    bar.apply(srt_completed(job_id))
    assert bar.progress == 0.5 and not bar.terminal and bar.state == "processing, step 2/2"
    bar.apply(JobProgressed(job_id=job_id, progress=0.75))  # the ledger's: the chain's
    assert bar.progress == 0.75
    bar.apply(fix_completed(job_id))
    assert bar.state == "completed" and bar.progress == 1.0


def test_a_retry_starts_again_and_a_failure_is_kept() -> None:
    job_id = uuid4()
    bar = BarState()
    bar.apply(JobProgressed(job_id=job_id, progress=0.6))
    bar.apply(
        JobRequeued(job_id=job_id, attempt=2, error=ErrorInfo(code="unavailable", message=""))
    )
    assert bar.progress == 0.0 and bar.state == "retrying (unavailable)"
    bar.apply(JobStarted(job_id=job_id, attempt=2))
    assert bar.state == "processing (attempt 2)"
    error = ErrorInfo(code="unreadable_media", message="cannot decode")
    bar.apply(JobFailed(job_id=job_id, attempt=2, error=error))
    assert bar.terminal and bar.error == "unreadable_media: cannot decode"
    bar.apply(JobProgressed(job_id=job_id, progress=1.0))  # nothing moves a finished job
    assert bar.state == "failed"
