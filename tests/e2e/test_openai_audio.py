"""OpenAI's audio API through the official `openai` SDK, against the real stack.

Every response format of both endpoints, word and segment timestamps, a file that is
not media, an unknown model, API keys on and off, a client that goes away, and a wait
that runs out: each answer in OpenAI's shape, each call a jetscribe job.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest
import srt

from tests.support import media
from tests.support.stack import Stack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

PHRASE = "The quick brown fox jumps over the lazy dog."
KEY = "js_test_openai_key"
SEGMENT_KEYS = {
    "id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
    "compression_ratio", "no_speech_prob",
}  # fmt: skip


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "gateway")


@pytest.fixture(scope="module")
def phrase_wav(media_dir: Path) -> Path:
    return media.speak(PHRASE, media_dir / "openai-phrase.wav")


@pytest.fixture(scope="module")
def german_wav(media_dir: Path) -> Path:
    text = "Guten Morgen. Heute scheint die Sonne und wir gehen in den Park."
    return media.speak(text, media_dir / "openai-german.wav", voice="de")


@pytest.fixture(scope="module")
def sdk(stack: Stack) -> Iterator[openai.OpenAI]:
    """The SDK as a user points it at jetscribe (open mode: any key will do)."""
    with openai.OpenAI(base_url=f"{stack.gateway_url}/v1", api_key="unused", max_retries=0) as c:
        yield c


def job_of(stack: Stack, headers: httpx.Headers) -> dict:
    job_id = headers["x-jetscribe-job-id"]
    r = httpx.get(f"{stack.gateway_url}/v1/jobs/{job_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_json_is_the_transcript_text_and_the_call_is_a_recorded_job(
    sdk: openai.OpenAI, stack: Stack, phrase_wav: Path
) -> None:
    with phrase_wav.open("rb") as f:
        raw = sdk.audio.transcriptions.with_raw_response.create(model="whisper-1", file=f)
    transcription = raw.parse()
    assert media.word_error_rate(PHRASE, transcription.text) <= 0.2, transcription.text
    assert json.loads(raw.text) == {"text": transcription.text}  # exactly OpenAI's shape
    job = job_of(stack, raw.headers)
    assert (job["type"], job["status"]) == ("transcribe", "completed")
    assert job["result"]["text"] == transcription.text
    listed = httpx.get(f"{stack.gateway_url}/v1/jobs", params={"type": "transcribe"}).json()
    assert job["id"] in [j["id"] for j in listed["items"]]


def test_the_configured_model_name_is_accepted_too(sdk: openai.OpenAI, phrase_wav: Path) -> None:
    with phrase_wav.open("rb") as f:
        text = sdk.audio.transcriptions.create(model="base", file=f, response_format="text")
    assert isinstance(text, str) and media.word_error_rate(PHRASE, text) <= 0.2


def test_text_srt_and_vtt_are_plain_documents(sdk: openai.OpenAI, phrase_wav: Path) -> None:
    documents = {}
    for fmt in ("text", "srt", "vtt"):
        with phrase_wav.open("rb") as f:
            raw = sdk.audio.transcriptions.with_raw_response.create(
                model="whisper-1", file=f, response_format=fmt, language="en"
            )
        assert raw.headers["content-type"].startswith("text/plain")
        documents[fmt] = raw.parse()
    assert documents["text"].endswith("\n") and "fox" in documents["text"].lower()
    cues = list(srt.parse(documents["srt"]))
    assert cues and cues[0].start.total_seconds() >= 0 and "fox" in documents["srt"].lower()
    assert documents["vtt"].startswith("WEBVTT") and "-->" in documents["vtt"]


def test_verbose_json_with_words_and_segments(sdk: openai.OpenAI, phrase_wav: Path) -> None:
    with phrase_wav.open("rb") as f:
        raw = sdk.audio.transcriptions.with_raw_response.create(
            model="whisper-1",
            file=f,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    body = json.loads(raw.text)
    assert set(body) == {"task", "language", "duration", "text", "segments", "words"}
    assert (body["task"], body["language"]) == ("transcribe", "english")
    assert 2.0 < body["duration"] < 6.0
    assert body["segments"] and all(set(s) == SEGMENT_KEYS for s in body["segments"])
    first = body["segments"][0]
    assert first["tokens"] and all(isinstance(t, int) for t in first["tokens"])
    assert first["avg_logprob"] < 0 and 0 <= first["no_speech_prob"] <= 1
    words = body["words"]
    assert [set(w) for w in words] == [{"word", "start", "end"}] * len(words)
    assert "fox" in [w["word"].lower().strip(".,") for w in words]
    assert all(a["start"] <= b["start"] for a, b in itertools.pairwise(words))
    parsed = raw.parse()  # the SDK's own model reads it
    assert parsed.words is not None and parsed.segments is not None


def test_verbose_json_granularities(sdk: openai.OpenAI, phrase_wav: Path) -> None:
    with phrase_wav.open("rb") as f:
        plain = sdk.audio.transcriptions.with_raw_response.create(
            model="whisper-1", file=f, response_format="verbose_json"
        )
    assert "segments" in json.loads(plain.text) and "words" not in json.loads(plain.text)
    with phrase_wav.open("rb") as f:
        words = sdk.audio.transcriptions.with_raw_response.create(
            model="whisper-1",
            file=f,
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    body = json.loads(words.text)
    assert body["words"] and "segments" not in body


def test_translations_answer_in_english(sdk: openai.OpenAI, stack: Stack, german_wav: Path) -> None:
    with german_wav.open("rb") as f:
        raw = sdk.audio.translations.with_raw_response.create(
            model="whisper-1", file=f, response_format="verbose_json"
        )
    body = json.loads(raw.text)
    assert (body["task"], body["language"]) == ("translate", "english")
    assert body["text"].strip() and body["segments"]
    job = job_of(stack, raw.headers)
    assert job["options"]["task"] == "translate" and job["result"]["language"] == "de"
    for fmt in ("json", "text", "srt", "vtt"):
        with german_wav.open("rb") as f:
            answer = sdk.audio.translations.create(model="whisper-1", file=f, response_format=fmt)
        text = answer if isinstance(answer, str) else answer.text
        assert text.strip(), fmt


def job_count(stack: Stack) -> int:
    r = httpx.get(f"{stack.gateway_url}/v1/jobs", params={"limit": 500}, timeout=10)
    return len(r.json()["items"])


def test_a_file_that_is_not_media_is_a_400_and_is_not_retried(stack: Stack, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp3"
    bogus.write_bytes(b"these are my meeting notes, not audio\n" * 50)
    before = job_count(stack)
    # The SDK's own retries (2 by default) stay off: the answer says not to retry.
    with (
        openai.OpenAI(base_url=f"{stack.gateway_url}/v1", api_key="unused") as default_sdk,
        pytest.raises(openai.BadRequestError) as raised,
        bogus.open("rb") as f,
    ):
        default_sdk.audio.transcriptions.create(model="whisper-1", file=f)
    error = raised.value.body
    assert isinstance(error, dict)
    assert error["code"] == "unreadable_media" and error["type"] == "invalid_request_error"
    assert error["message"] and error["param"] == "file"
    assert raised.value.response.headers["x-should-retry"] == "false"
    job = job_of(stack, raised.value.response.headers)
    assert job["status"] == "failed" and job["error"]["code"] == "unreadable_media"
    assert job_count(stack) == before + 1  # one call, one job


def test_an_idempotency_key_makes_a_repeated_call_wait_on_the_same_job(
    sdk: openai.OpenAI, stack: Stack, phrase_wav: Path
) -> None:
    key = {"Idempotency-Key": f"call-{uuid.uuid4()}"}
    ids = []
    for _ in range(2):
        with phrase_wav.open("rb") as f:
            raw = sdk.audio.transcriptions.with_raw_response.create(
                model="whisper-1", file=f, response_format="text", extra_headers=key
            )
        ids.append(raw.headers["x-jetscribe-job-id"])
        assert "fox" in raw.parse().lower()
    assert ids[0] == ids[1]


def test_an_unknown_model_is_a_400_and_keeps_nothing(
    sdk: openai.OpenAI, stack: Stack, phrase_wav: Path
) -> None:
    before = httpx.get(f"{stack.gateway_url}/v1/jobs", params={"limit": 500}).json()["items"]
    with pytest.raises(openai.BadRequestError) as raised, phrase_wav.open("rb") as f:
        sdk.audio.transcriptions.create(model="gpt-4o-transcribe", file=f)
    assert raised.value.status_code == 400
    assert raised.value.body == {
        "message": raised.value.body["message"],  # type: ignore[index]
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
    after = httpx.get(f"{stack.gateway_url}/v1/jobs", params={"limit": 500}).json()["items"]
    assert len(after) == len(before)


def test_other_bad_requests_use_openais_error_shape(stack: Stack, phrase_wav: Path) -> None:
    url = f"{stack.gateway_url}/v1/audio/transcriptions"
    granularity = "timestamp_granularities[]"
    cases = [
        ({"model": "whisper-1", "response_format": "xml"}, True, "response_format"),
        ({"model": "whisper-1", granularity: "word"}, True, granularity),
        ({"model": "whisper-1", "prompt": "a\x00b"}, True, "prompt"),
        ({"model": "whisper-1"}, False, None),  # no file part at all
    ]
    before = job_count(stack)
    for data, with_file, param in cases:
        files = {"file": ("a.wav", phrase_wav.read_bytes(), "audio/wav")} if with_file else None
        r = httpx.post(url, data=data, files=files, timeout=30)
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]
        assert error["type"] == "invalid_request_error" and error["param"] == param
    assert job_count(stack) == before  # none of them became a job
    wrong_method = httpx.get(url, timeout=10)
    # HTTP's 405 with `Allow` (the SDK only POSTs here), in OpenAI's error shape.
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_api_keys_are_the_sdks_api_key(extra_gateway: Callable[..., str], phrase_wav: Path) -> None:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    url = extra_gateway(AUTH_DISABLED="false", API_KEYS=f"acme:{digest}")
    with (
        openai.OpenAI(base_url=f"{url}/v1", api_key="wrong-key", max_retries=0) as client,
        phrase_wav.open("rb") as f,
        pytest.raises(openai.AuthenticationError) as raised,
    ):
        client.audio.transcriptions.create(model="whisper-1", file=f)
    assert raised.value.status_code == 401
    assert raised.value.body["code"] == "invalid_api_key"  # type: ignore[index]
    no_key = httpx.post(
        f"{url}/v1/audio/transcriptions",
        data={"model": "whisper-1"},
        files={"file": ("a.wav", phrase_wav.read_bytes(), "audio/wav")},
    )
    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "invalid_request_error"
    with (
        openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0) as client,
        phrase_wav.open("rb") as f,
    ):
        raw = client.audio.transcriptions.with_raw_response.create(model="whisper-1", file=f)
    assert "fox" in raw.parse().text.lower()
    job_id = raw.headers["x-jetscribe-job-id"]
    owned = httpx.get(f"{url}/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {KEY}"})
    assert owned.status_code == 200 and owned.json()["status"] == "completed"


def test_a_client_that_goes_away_leaves_the_job_to_finish(stack: Stack, speech_wav: Path) -> None:
    before = {j["id"] for j in httpx.get(f"{stack.gateway_url}/v1/jobs").json()["items"]}
    with (
        pytest.raises(httpx.ReadTimeout),
        speech_wav.open("rb") as f,
    ):
        httpx.post(
            f"{stack.gateway_url}/v1/audio/transcriptions",
            data={"model": "whisper-1", "prompt": "gone"},
            files={"file": ("speech.wav", f, "audio/wav")},
            timeout=httpx.Timeout(30, read=1.0),
        )

    def new_job() -> dict | None:
        items = httpx.get(f"{stack.gateway_url}/v1/jobs").json()["items"]
        fresh = [j for j in items if j["id"] not in before]
        return fresh[0] if fresh else None

    job = wait_until(new_job, timeout=30)
    wait_until(
        lambda: "client went away" in stack["gateway"].tail(200) or None,
        timeout=30,
        what="the gateway noticing the client left",
    )
    done = httpx.get(f"{stack.gateway_url}/v1/jobs/{job['id']}", params={"wait": 120}, timeout=130)
    assert done.json()["status"] == "completed", done.text
    assert "morning" in done.json()["result"]["text"].lower()


def test_a_wait_that_runs_out_is_a_504_naming_the_job_which_goes_on(
    extra_gateway: Callable[..., str], speech_wav: Path
) -> None:
    url = extra_gateway(OPENAI_MAX_WAIT_S="0.5")
    with (
        openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0) as client,
        speech_wav.open("rb") as f,
        pytest.raises(openai.InternalServerError) as raised,
    ):
        client.audio.transcriptions.create(model="whisper-1", file=f, prompt="slow")
    assert raised.value.status_code == 504
    assert raised.value.body["code"] == "timeout"  # type: ignore[index]
    job_id = raised.value.response.headers["x-jetscribe-job-id"]
    assert job_id in raised.value.body["message"]  # type: ignore[index]
    start = time.monotonic()
    done = httpx.get(f"{url}/v1/jobs/{job_id}", params={"wait": 120}, timeout=130).json()
    assert done["status"] == "completed", (done, time.monotonic() - start)
