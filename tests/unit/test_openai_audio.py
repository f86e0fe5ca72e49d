"""OpenAI's audio request fields → a jetscribe job, and a result → OpenAI's shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import JobType, TranscribeResult, parse_options
from services.gateway.errors import ApiError
from services.gateway.openai.errors import openai_body, openai_status
from services.gateway.openai.requests import read_request
from services.gateway.openai.responses import render

pytestmark = pytest.mark.unit
MODELS = frozenset({"whisper-1", "base"})

RESULT: dict[str, Any] = TranscribeResult(
    text="Hello there. General Kenobi.",
    language="en",
    language_probability=0.98,
    duration_s=3.5,
    segments=[
        {
            "start": 0.0,
            "end": 1.5,
            "text": "Hello there.",
            "id": 1,
            "seek": 0,
            "temperature": 0.0,
            "avg_logprob": -0.2,
            "compression_ratio": 0.9,
            "no_speech_prob": 0.01,
            "tokens": [50364, 2425, 456],
            "words": [
                {"start": 0.0, "end": 0.6, "word": " Hello"},
                {"start": 0.6, "end": 1.5, "word": " there."},
            ],
        },
        {"start": 1.6, "end": 3.5, "text": "General Kenobi."},  # an older result's segment
    ],
).model_dump(mode="json")

SEGMENT_KEYS = {
    "id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
    "compression_ratio", "no_speech_prob",
}  # fmt: skip


def test_a_plain_transcription_is_a_transcribe_job_with_valid_options() -> None:
    request = read_request("transcribe", [("model", "whisper-1")], MODELS)
    job_type, options = request.job()
    assert job_type is JobType.TRANSCRIBE
    assert request.response_format == "json"
    parse_options(job_type, options)  # the ledger would accept them


def test_every_field_reaches_the_job_options() -> None:
    form = [
        ("model", "base"),
        ("language", "DE"),
        ("prompt", "Kenobi"),
        ("temperature", "0.4"),
        ("response_format", "verbose_json"),
        ("timestamp_granularities[]", "word"),
        ("timestamp_granularities[]", "segment"),
    ]
    request = read_request("transcribe", form, MODELS)
    job_type, options = request.job()
    assert options == {
        "task": "transcribe",
        "temperature": 0.4,
        "language": "de",
        "initial_prompt": "Kenobi",
        "include_tokens": True,
        "word_timestamps": True,
    }
    assert request.words and request.segments
    parse_options(job_type, options)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitle_formats_are_subtitle_jobs(fmt: str) -> None:
    form = [("model", "whisper-1"), ("response_format", fmt)]
    job_type, options = read_request("translate", form, MODELS).job()
    assert job_type is JobType.GENERATE_SRT
    assert options["format"] == fmt and options["task"] == "translate"
    parse_options(job_type, options)


W = ("model", "whisper-1")
VERBOSE = ("response_format", "verbose_json")
G = "timestamp_granularities[]"


@pytest.mark.parametrize(
    ("task", "form", "param", "code"),
    [
        ("transcribe", [], "model", "invalid_request"),
        ("transcribe", [("model", "gpt-4o-transcribe")], "model", "model_not_found"),
        ("transcribe", [W, ("response_format", "xml")], "response_format", "invalid_request"),
        ("transcribe", [W, ("language", "klingon")], "language", "invalid_request"),
        ("transcribe", [W, ("temperature", "hot")], "temperature", "invalid_request"),
        ("transcribe", [W, ("temperature", "1.5")], "temperature", "invalid_request"),
        ("transcribe", [W, ("temperature", "nan")], "temperature", "invalid_request"),
        ("transcribe", [W, ("prompt", "x" * 2001)], "prompt", "invalid_request"),
        ("transcribe", [W, ("prompt", "a\x00b")], "prompt", "invalid_request"),
        ("transcribe", [W, ("stream", "true")], "stream", "invalid_request"),
        ("transcribe", [W, ("beam_size", "3")], "beam_size", "invalid_request"),
        ("transcribe", [W, (G, "word")], G, "invalid_request"),
        ("transcribe", [W, VERBOSE, (G, "char")], G, "invalid_request"),
        ("translate", [W, ("language", "de")], "language", "invalid_request"),
        ("translate", [W, VERBOSE, (G, "word")], G, "invalid_request"),
    ],
)
def test_bad_fields_are_400_naming_the_param(
    task: Any, form: list[tuple[str, str]], param: str, code: str
) -> None:
    with pytest.raises(ApiError) as raised:
        read_request(task, form, MODELS)
    assert (raised.value.status, raised.value.param, raised.value.code) == (400, param, code)
    assert raised.value.message


def test_json_is_the_text_alone() -> None:
    request = read_request("transcribe", [("model", "whisper-1")], MODELS)
    rendered = render(request, RESULT)
    assert rendered.media_type == "application/json"
    assert json.loads(rendered.body) == {"text": "Hello there. General Kenobi."}


def test_text_srt_and_vtt_are_plain_documents() -> None:
    text = render(
        read_request("transcribe", [("model", "base"), ("response_format", "text")], MODELS), RESULT
    )
    assert (
        text.media_type.startswith("text/plain") and text.body == b"Hello there. General Kenobi.\n"
    )
    srt_request = read_request(
        "transcribe", [("model", "base"), ("response_format", "srt")], MODELS
    )
    doc = "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n"
    assert render(srt_request, {"content": doc}).body == doc.encode()


def test_verbose_json_has_openais_segment_fields_and_words_when_asked() -> None:
    form = [
        ("model", "whisper-1"),
        ("response_format", "verbose_json"),
        ("timestamp_granularities[]", "word"),
        ("timestamp_granularities[]", "segment"),
    ]
    body = json.loads(render(read_request("transcribe", form, MODELS), RESULT).body)
    assert set(body) == {"task", "language", "duration", "text", "segments", "words"}
    assert (body["task"], body["language"], body["duration"]) == ("transcribe", "english", 3.5)
    assert [set(s) for s in body["segments"]] == [SEGMENT_KEYS, SEGMENT_KEYS]
    first, older = body["segments"]
    assert first["tokens"] == [50364, 2425, 456] and first["avg_logprob"] == -0.2
    assert (first["id"], older["id"]) == (0, 1)  # OpenAI's ids count from 0
    assert older["tokens"] == [] and older["no_speech_prob"] == 0.0
    assert body["words"] == [
        {"word": "Hello", "start": 0.0, "end": 0.6},
        {"word": "there.", "start": 0.6, "end": 1.5},
    ]


def test_verbose_json_gives_segments_by_default_and_only_words_when_only_words_asked() -> None:
    plain = [("model", "whisper-1"), ("response_format", "verbose_json")]
    body = json.loads(render(read_request("transcribe", plain, MODELS), RESULT).body)
    assert "segments" in body and "words" not in body
    words_only = [*plain, ("timestamp_granularities[]", "word")]
    body = json.loads(render(read_request("transcribe", words_only, MODELS), RESULT).body)
    assert "words" in body and "segments" not in body


def test_a_translation_reports_english() -> None:
    form = [("model", "whisper-1"), ("response_format", "verbose_json")]
    body = json.loads(
        render(read_request("translate", form, MODELS), {**RESULT, "language": "de"}).body
    )
    assert (body["task"], body["language"]) == ("translate", "english")


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, "invalid_request_error", "unreadable_media"),
        (401, "invalid_request_error", "invalid_api_key"),
        (429, "requests", "rate_limit_exceeded"),
        (503, "server_error", "unreadable_media"),
    ],
)
def test_error_bodies_are_openais_shape(status: int, kind: str, code: str) -> None:
    body = openai_body(status, "unreadable_media", "nope", "file")
    assert body == {"error": {"message": "nope", "type": kind, "param": "file", "code": code}}


def test_statuses_the_sdk_has_no_class_for_become_400() -> None:
    assert [openai_status(s) for s in (422, 413, 410)] == [400] * 3
    # 405 stays 405: a wrong method is answered as HTTP says, with `Allow`.
    assert [openai_status(s) for s in (400, 401, 404, 405, 429, 500, 503, 504)] == [
        400, 401, 404, 405, 429, 500, 503, 504,
    ]  # fmt: skip
