"""The `jetscribe` command (a real process, `python -m jetscribe.cli`) against the real
stack: batches, formats, the LLM pipeline, failures, listings, downloads, Ctrl-C.

CLI_CAPTURE=<path> also writes the output of the two-file run there (for the README)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import srt

from tests.support import media
from tests.support.client import Api
from tests.support.fake_llm import FakeLlm
from tests.support.stack import Stack
from tests.support.waiting import wait_until

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RUN_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLlm]:
    fake = FakeLlm(behaviour="upper")
    server = fake.serve()
    yield fake
    server.should_exit = True


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "converter", "srt-fixer", "gateway")


@pytest.fixture(scope="module")
def stack_env(llm: FakeLlm) -> dict[str, str]:
    return {
        "MAX_UPLOAD_BYTES": str(5 * 1024 * 1024),
        "LLM_API_BASE": llm.api_base,
        "LLM_MODEL": "openai/fake-model",
        "LLM_API_KEY": "test-key",
        "LLM_TIMEOUT_S": "5",
    }


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Short speech, each clip different (no result cache between tests that run jobs)."""
    if not media.espeak_available():
        pytest.skip("espeak-ng not installed (make system-deps)")
    folder = tmp_path_factory.mktemp("clips")
    for name, text in {
        "a": "The first file talks about the morning train to the city.",
        "b": "The second file is about cooking rice with a little salt.",
        "c": "A third short sentence, submitted without waiting.",
        "d": "Subtitles from this sentence are fixed by the language model.",
    }.items():
        media.speak(text, folder / f"{name}.wav")
    return folder


def long_clip(folder: Path, name: str, topic: str) -> Path:
    """About 20 seconds of speech: long enough to be interrupted while it runs."""
    text = (
        f"This recording is about {topic}. It goes on for a while so that the job is still "
        "running when the command is interrupted. The service reads the audio, runs the "
        "speech model and writes the transcript back as a document, while the client "
        f"follows its progress. Once more, this recording was about {topic}, and now it ends."
    )
    return media.speak(text, folder / f"{name}.wav", speed=140)


def cli(
    server: str, *args: str, cwd: Path | None = None, merged: bool = False
) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it (not a terminal: plain output)."""
    return subprocess.run(
        [sys.executable, "-m", "jetscribe.cli", *args],
        cwd=cwd,
        env={**os.environ, "JETSCRIBE_URL": server},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def cues(path: Path) -> list[srt.Subtitle]:
    found = list(srt.parse(path.read_text()))
    assert found, f"{path}: no cue"
    return found


@pytest.fixture(scope="module")
def two_files(stack: Stack, clips: Path) -> dict[str, Any]:
    """`jetscribe transcribe a.wav b.wav --format srt --out subs`, run once."""
    done = cli(
        stack.gateway_url,
        *("transcribe", "a.wav", "b.wav", "--format", "srt", "--out", "subs"),
        cwd=clips,
        merged=True,
    )
    capture = os.environ.get("CLI_CAPTURE")
    if capture:
        Path(capture).write_text(
            "$ jetscribe transcribe a.wav b.wav --format srt --out subs\n"
            f"{done.stdout}(exit {done.returncode})\n"
        )
    found = re.search(rf"batch ({UUID_RE})", done.stdout)
    return {"run": done, "out": clips / "subs", "batch_id": found and found.group(1)}


def test_two_files_are_one_batch_each_written_as_srt(two_files: dict[str, Any], api: Api) -> None:
    run = two_files["run"]
    assert run.returncode == 0, run.stdout
    assert "a.wav: completed" in run.stdout and "b.wav: completed" in run.stdout
    assert "2 of 2 jobs completed" in run.stdout
    out: Path = two_files["out"]
    assert "TRAIN" in " ".join(c.content for c in cues(out / "a.srt")).upper()
    assert "RICE" in " ".join(c.content for c in cues(out / "b.srt")).upper()
    batch = api.get(two_files["batch_id"])
    assert batch["type"] == "batch" and batch["status"] == "completed"
    assert batch["result"]["total"] == 2 and batch["result"]["completed"] == 2


def test_text_and_json_formats(stack: Stack, clips: Path, tmp_path: Path) -> None:
    text = cli(stack.gateway_url, "transcribe", str(clips / "a.wav"), "--out", str(tmp_path))
    assert text.returncode == 0, text.stdout + text.stderr
    assert "train" in (tmp_path / "a.txt").read_text().lower()
    as_json = cli(
        stack.gateway_url,
        *("transcribe", str(clips / "a.wav"), "--format", "json", "--out", str(tmp_path)),
        "--json",
    )
    assert as_json.returncode == 0, as_json.stderr
    summary = json.loads(as_json.stdout)  # stdout holds the JSON summary alone
    assert summary["ok"] is True and summary["jobs"][0]["output"] == str(tmp_path / "a.json")
    result = json.loads((tmp_path / "a.json").read_text())
    assert result["type"] == "transcribe" and result["segments"] and result["language"] == "en"


def test_fix_and_translate_run_one_pipeline_through_the_llm(
    stack: Stack, clips: Path, tmp_path: Path, api: Api, llm: FakeLlm
) -> None:
    done = cli(
        stack.gateway_url,
        *("transcribe", str(clips / "d.wav"), "--fix", "--translate", "German"),
        *("--out", str(tmp_path), "--json"),
    )
    assert done.returncode == 0, done.stderr
    job = api.get(json.loads(done.stdout)["job_id"])
    assert [(s["type"], s["status"]) for s in job["steps"]] == [
        ("generate_srt", "completed"),
        ("fix_srt", "completed"),
        ("translate_srt", "completed"),
    ]
    fixed = cues(tmp_path / "d.srt")
    assert all(c.content == c.content.upper() for c in fixed)  # the fake LLM's answer
    assert "LANGUAGE MODEL" in " ".join(c.content for c in fixed)
    assert "German" in llm.bodies[-1]["messages"][0]["content"]


def test_a_file_that_is_not_media_fails_with_its_code(stack: Stack, tmp_path: Path) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("this is a text file pretending to be audio\n" * 50)
    done = cli(stack.gateway_url, "transcribe", str(fake), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert f"{fake}: failed — unreadable_media: " in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "out" / "notes.txt").exists()


def test_jobs_json_lists_the_jobs_and_the_table_too(
    stack: Stack, two_files: dict[str, Any]
) -> None:
    listed = cli(stack.gateway_url, "jobs", "--json", "--limit", "100")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)["items"]
    assert two_files["batch_id"] in {j["id"] for j in items}
    children = cli(stack.gateway_url, "jobs", "--batch", two_files["batch_id"], "--json")
    assert [j["status"] for j in json.loads(children.stdout)["items"]] == ["completed"] * 2
    table = cli(stack.gateway_url, "jobs", "--type", "batch")
    assert table.returncode == 0 and two_files["batch_id"] in table.stdout


def test_job_shows_its_details_and_event_timeline(stack: Stack, two_files: dict[str, Any]) -> None:
    listed = cli(stack.gateway_url, "jobs", "--batch", two_files["batch_id"], "--json")
    child = json.loads(listed.stdout)["items"][0]
    shown = cli(stack.gateway_url, "job", child["id"])
    assert shown.returncode == 0, shown.stderr
    assert child["id"] in shown.stdout and re.search(r"\((a|b)\.wav\)", shown.stdout)
    for kind in ("queued", "started", "completed"):
        assert re.search(rf"\d\d:\d\d:\d\d\.\d{{3}} +│ {kind} ", shown.stdout), shown.stdout
    as_json = json.loads(cli(stack.gateway_url, "job", child["id"], "--json").stdout)
    kinds = [e["kind"] for e in as_json["events"]]
    assert kinds[0] == "queued" and kinds[-1] == "completed" and "started" in kinds
    assert as_json["job"]["id"] == child["id"]


def test_follow_of_a_finished_batch_tells_each_job(stack: Stack, two_files: dict[str, Any]) -> None:
    done = cli(stack.gateway_url, "follow", two_files["batch_id"])
    assert done.returncode == 0, done.stderr
    assert "a.wav: completed" in done.stdout and "b.wav: completed" in done.stdout


def test_download_names_each_output_after_its_input(
    stack: Stack, two_files: dict[str, Any], tmp_path: Path
) -> None:
    done = cli(stack.gateway_url, "download", two_files["batch_id"], "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for name in ("a.srt", "b.srt"):
        assert (tmp_path / name).read_text() == (two_files["out"] / name).read_text()


def test_convert_downloads_the_output(stack: Stack, clips: Path, tmp_path: Path) -> None:
    done = cli(
        stack.gateway_url, "convert", str(clips / "b.wav"), "--preset", "mp3", "-o", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    head = (tmp_path / "b.mp3").read_bytes()[:3]
    assert head == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xe3")


def test_no_wait_prints_the_ids_and_exits_0(stack: Stack, clips: Path, api: Api) -> None:
    done = cli(stack.gateway_url, "transcribe", str(clips / "c.wav"), "--no-wait", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["jobs"][0]["job_id"] == summary["job_id"]
    assert summary["jobs"][0]["status"] in ("pending", "processing")
    plain = cli(stack.gateway_url, "transcribe", str(clips / "c.wav"), "--no-wait")
    assert plain.returncode == 0
    assert re.search(rf"jetscribe follow {UUID_RE}", plain.stdout)
    assert api.wait(summary["job_id"])["status"] == "completed"


def test_cancel_cancels_and_a_second_cancel_says_it_is_finished(
    stack: Stack, clips: Path, api: Api
) -> None:
    clip = long_clip(clips, "cancel-me", "cancelling a job")
    submitted = cli(stack.gateway_url, "transcribe", str(clip), "--no-wait", "--json")
    job_id = json.loads(submitted.stdout)["job_id"]
    done = cli(stack.gateway_url, "cancel", job_id)
    assert done.returncode == 0, done.stderr
    assert f"{job_id}: cancelled" in done.stdout
    assert api.get(job_id)["status"] == "cancelled"
    again = cli(stack.gateway_url, "cancel", job_id)
    assert again.returncode == 1
    assert again.stderr.strip() == "error: job_finished: job is already cancelled"


def test_an_unreachable_server_is_one_clear_line(clips: Path) -> None:
    for args in (["jobs"], ["transcribe", str(clips / "a.wav")]):
        done = cli("http://127.0.0.1:9", "--server", "http://127.0.0.1:9", *args)
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: unreachable: cannot reach")
        assert "Traceback" not in done.stdout + done.stderr


def interrupt(server: str, clip: Path, out: Path, *flags: str) -> tuple[int, str, str, str]:
    """Run `transcribe`, Ctrl-C once its job is submitted; (exit, stdout, stderr, job id)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jetscribe.cli", "transcribe", str(clip), "-o", str(out), *flags],
        env={**os.environ, "JETSCRIBE_URL": server},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if re.search(rf": job {UUID_RE}", line):
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert found.wait(60), "the job was never submitted"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    stderr = proc.stderr.read() if proc.stderr else ""
    stdout = "".join(seen)
    job = re.search(rf": job ({UUID_RE})", stdout)
    assert job, stdout + stderr
    return code, stdout, stderr, job.group(1)


def test_ctrl_c_leaves_the_job_running_and_says_how_to_follow_it(
    stack: Stack, clips: Path, api: Api, tmp_path: Path
) -> None:
    clip = long_clip(clips, "keep-running", "trains and stations")
    code, _, stderr, job_id = interrupt(stack.gateway_url, clip, tmp_path)
    assert code == 130, stderr
    assert f"jobs keep running on the server: jetscribe follow {job_id}" in stderr
    assert "Traceback" not in stderr
    assert api.wait(job_id)["status"] == "completed"


def test_ctrl_c_with_cancel_on_interrupt_cancels_the_job(
    stack: Stack, clips: Path, api: Api, tmp_path: Path
) -> None:
    clip = long_clip(clips, "cancel-on-interrupt", "rivers and bridges")
    code, _, stderr, job_id = interrupt(stack.gateway_url, clip, tmp_path, "--cancel-on-interrupt")
    assert code == 130, stderr
    assert f"cancelled {job_id}" in stderr
    assert "Traceback" not in stderr
    wait_until(lambda: api.get(job_id)["status"] == "cancelled", 30, "the job cancelled")
