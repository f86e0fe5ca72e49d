"""fix_srt / translate_srt through the real srt-fixer process, litellm and a scripted
OpenAI-compatible server: the text may change, the timing never does."""

from __future__ import annotations

from pathlib import Path

import pytest
import srt

from tests.support.client import Api
from tests.support.fake_llm import FakeLlm
from tests.support.stack import Stack
from tests.support.waiting import wait_until

SOURCE = "\n".join(
    f"{i}\n00:00:{i:02d},{i * 37 % 1000:03d} --> 00:00:{i:02d},{(i * 37 + 900) % 1000:03d}\n"
    f"{'teh' if i % 2 else 'a'} cue number {i} we recieve\n"
    for i in range(1, 26)
)


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "srt-fixer", "gateway")


@pytest.fixture(scope="module")
def stack_env(llm: FakeLlm) -> dict[str, str]:
    return {
        "LLM_API_BASE": llm.api_base,
        "LLM_MODEL": "openai/fake-model",
        "LLM_API_KEY": "test-key",
        "LLM_TIMEOUT_S": "2",
        # Transient LLM errors are retried by JetStream redelivery: two attempts, fast.
        "MAX_DELIVER": "2",
        "RETRY_BACKOFF_S": "[0.2]",
        "MAX_LLM_CONCURRENCY": "3",
    }


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    # These tests script the LLM differently for the same SRT: every job must reach it.
    return Api(stack.gateway_url, cache=False)


@pytest.fixture(scope="module")
def srt_file(api: Api, tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("srt") / "talk.srt"
    path.write_text(SOURCE)
    return str(api.upload(path, "application/x-subrip")["id"])


def run(
    api: Api, llm: FakeLlm, file_id: str, behaviour: str, type: str = "fix_srt", **options: object
) -> dict:
    llm.behaviour = behaviour
    if type != "summarize":
        options = {"chunk_cues": 10, **options}
    return api.wait(api.submit(file_id, type=type, options=options)["id"])


def same_timing(content: str) -> list[srt.Subtitle]:
    original, fixed = list(srt.parse(SOURCE)), list(srt.parse(content))
    assert [(c.index, c.start, c.end) for c in fixed] == [
        (c.index, c.start, c.end) for c in original
    ]
    return fixed


def test_fix_srt_changes_text_and_keeps_every_timestamp(
    api: Api, llm: FakeLlm, srt_file: str
) -> None:
    done = run(api, llm, srt_file, "fix")
    assert done["status"] == "completed", done
    result = done["result"]
    fixed = same_timing(result["content"])
    assert all("teh" not in c.content and "receive" in c.content for c in fixed)
    assert result["changed_cues"] == 25 and result["kept_cues"] == 0
    assert result["model"] == "openai/fake-model"
    assert result["usage"]["prompt_tokens"] > 0 and result["usage"]["total_tokens"] > 0
    assert llm.bodies[-1]["model"] == "fake-model"  # reached through litellm's openai route


def test_translate_srt_translates_every_cue_with_timing_untouched(
    api: Api, llm: FakeLlm, srt_file: str
) -> None:
    done = run(api, llm, srt_file, "upper", type="translate_srt", target_language="German")
    assert done["status"] == "completed", done
    fixed = same_timing(done["result"]["content"])
    assert all(c.content == c.content.upper() for c in fixed)
    assert done["result"]["language"] == "German"
    assert "German" in llm.bodies[-1]["messages"][0]["content"]


@pytest.mark.parametrize("behaviour", ["garbage", "wrong_indices", "missing", "timing"])
def test_invalid_answers_never_break_timing(
    api: Api, llm: FakeLlm, srt_file: str, behaviour: str
) -> None:
    done = run(api, llm, srt_file, behaviour)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "llm_output_invalid"
    assert done["error"]["message"]


def test_a_chunk_without_a_valid_answer_keeps_its_text_and_is_reported(
    api: Api, llm: FakeLlm, srt_file: str
) -> None:
    done = run(api, llm, srt_file, "first_chunk_bad")
    assert done["status"] == "completed", done
    result = done["result"]
    fixed = same_timing(result["content"])
    original = list(srt.parse(SOURCE))
    assert [c.content for c in fixed[:10]] == [c.content for c in original[:10]]
    assert all("teh" not in c.content for c in fixed[10:])
    assert result["kept_cues"] == 10 and result["changed_cues"] == 15
    assert result["warnings"] and "cues 1-10 kept unchanged" in result["warnings"][0]


def test_a_rate_limit_is_retried_by_redelivery(api: Api, llm: FakeLlm, srt_file: str) -> None:
    llm.calls = 0
    done = run(api, llm, srt_file, "rate_limit_once", chunk_cues=50)
    assert done["status"] == "completed", done
    assert llm.calls == 2
    assert done["attempt"] == 2  # the job went back to JetStream once: no retry loop inside
    same_timing(done["result"]["content"])
    sse = api.http.get(f"/v1/jobs/{done['id']}/events").text  # ends: the job is terminal
    kinds = [line[len("event: ") :] for line in sse.splitlines() if line.startswith("event: ")]
    assert kinds.count("requeued") == 1 and kinds.count("started") == 2


@pytest.mark.parametrize("behaviour", ["hang", "server_error"])
def test_an_llm_that_stays_unreachable_is_retried_then_fails_naming_it(
    api: Api, llm: FakeLlm, srt_file: str, behaviour: str
) -> None:
    llm.calls = 0
    done = run(api, llm, srt_file, behaviour, chunk_cues=50)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "retries_exhausted", done["error"]
    assert "llm_unavailable" in done["error"]["message"]
    assert done["attempt"] == 2 and llm.calls == 2  # one call an attempt: MAX_DELIVER=2


def test_an_llm_that_refuses_the_key_fails_at_once(api: Api, llm: FakeLlm, srt_file: str) -> None:
    llm.calls = 0
    done = run(api, llm, srt_file, "auth", chunk_cues=50)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "llm_unavailable"
    assert done["attempt"] == 1 and llm.calls == 1


def test_a_file_that_is_not_srt_is_unsupported(api: Api, llm: FakeLlm, tmp_path: Path) -> None:
    path = tmp_path / "notes.srt"
    path.write_text("just some notes, no cues\n")
    done = run(api, llm, str(api.upload(path)["id"]), "fix")
    assert done["status"] == "failed"
    assert done["error"]["code"] == "unsupported_media"


def test_video_to_srt_to_fixed_to_translated_in_one_request(
    api: Api, llm: FakeLlm, speech_mp4: Path
) -> None:
    llm.behaviour = "upper"
    job = api.submit(
        api.upload(speech_mp4)["id"],
        type="generate_srt",
        then=[
            {"type": "fix_srt", "options": {}},
            {"type": "translate_srt", "options": {"target_language": "Shouting English"}},
        ],
    )
    done = api.wait(job["id"], 180)
    assert done["status"] == "completed", done
    assert [s["status"] for s in done["steps"]] == ["completed"] * 3
    srt_step = api.get(done["steps"][0]["job_id"])
    assert srt_step["id"] == job["id"]
    generated = list(srt.parse(api.get(done["steps"][1]["job_id"])["result"]["content"]))
    final = list(srt.parse(done["result"]["content"]))
    assert [(c.start, c.end) for c in final] == [(c.start, c.end) for c in generated]
    assert all(c.content == c.content.upper() for c in final)


def test_a_transcript_is_summarised(api: Api, llm: FakeLlm, speech_mp3: Path) -> None:
    llm.behaviour = "fix"
    transcribed = api.wait(
        api.submit(
            api.upload(speech_mp3)["id"],
            type="transcribe",
            then=[{"type": "summarize", "options": {"max_words": 50, "style": "bullets"}}],
        )["id"]
    )
    assert transcribed["status"] == "completed", transcribed
    result = transcribed["result"]
    assert result["type"] == "summarize" and result["model"] == "openai/fake-model"
    assert result["summary"].endswith("words starting Good")
    assert "50 words" in llm.bodies[-1]["messages"][0]["content"]
    assert result["usage"]["total_tokens"] > 0


def test_a_long_srt_is_summarised_in_chunks_then_combined(
    api: Api, llm: FakeLlm, tmp_path: Path
) -> None:
    long = tmp_path / "long.srt"
    long.write_text(
        "\n".join(
            f"{i}\n00:{i // 60:02d}:{i % 60:02d},000 --> 00:{i // 60:02d}:{i % 60:02d},900\n"
            f"{'word ' * 60}number {i}\n"
            for i in range(1, 1200)
        )
    )
    llm.behaviour = "fix"
    done = api.wait(api.submit(api.upload(long)["id"], type="summarize")["id"])
    assert done["status"] == "completed", done
    assert done["result"]["summary"].startswith("COMBINED: ")
    assert done["result"]["summary"].count(" / ") >= 2


def test_a_summary_the_model_cannot_give_fails_with_llm_output_invalid(
    api: Api, llm: FakeLlm, srt_file: str
) -> None:
    done = run(api, llm, srt_file, "garbage", type="summarize")
    assert done["status"] == "failed"
    assert done["error"]["code"] == "llm_output_invalid"


def test_llm_calls_run_concurrently_within_the_bound(api: Api, llm: FakeLlm, srt_file: str) -> None:
    llm.delay_s, llm.max_in_flight = 0.3, 0
    try:
        done = run(api, llm, srt_file, "fix", chunk_cues=2)  # 13 chunks
    finally:
        llm.delay_s = 0.0
    assert done["status"] == "completed", done
    assert llm.max_in_flight == 3  # MAX_LLM_CONCURRENCY of this module's srt-fixer


def test_cancel_aborts_the_calls_in_flight(
    api: Api, llm: FakeLlm, stack: Stack, srt_file: str
) -> None:
    import time

    # Aborted, not timed out: told apart by time, so the srt-fixer runs this test with an
    # LLM timeout far longer than a cancel takes on a loaded machine (the module's 2 s,
    # which the "hang" case above relies on, is not).
    fixer = stack["srt-fixer"]
    module_timeout = fixer.env["LLM_TIMEOUT_S"]
    fixer.env["LLM_TIMEOUT_S"] = "30"
    fixer.restart()
    try:
        llm.behaviour, llm.calls = "hang", 0
        submitted = time.monotonic()
        job = api.submit(srt_file, type="fix_srt", options={"chunk_cues": 50})
        wait_until(lambda: llm.in_flight > 0, 30, "an LLM call in flight")
        assert api.http.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
        wait_until(lambda: llm.in_flight == 0, 15, "the call in flight aborted")
        # The call began after the submission and ended within 15 s of it: half the 30-s
        # timeout, so the client aborted it; a timeout could not have ended it yet.
        assert time.monotonic() - submitted < 15
        assert api.get(job["id"])["status"] == "cancelled"
    finally:
        fixer.env["LLM_TIMEOUT_S"] = module_timeout
        fixer.restart()


def test_an_unknown_model_name_fails_at_once_with_llm_unavailable(
    api: Api, llm: FakeLlm, srt_file: str
) -> None:
    llm.calls = 0
    done = run(api, llm, srt_file, "fix", model="no-such-provider/some-model")
    assert done["status"] == "failed"
    assert done["error"]["code"] == "llm_unavailable"
    assert done["attempt"] == 1 and llm.calls == 0
