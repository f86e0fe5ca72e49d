"""The gateway's guards on what clients send (found by fuzzing the API), pure: upload
part headers, the SSE resume point, form options, NUL in options, 405's `Allow`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contracts import JobType
from services.gateway import errors
from services.gateway.adapters.part_headers import (
    MAX_FILENAME_BYTES,
    checked_content_type,
    clean_filename,
)
from services.gateway.app import create_app
from services.gateway.errors import ApiError
from services.gateway.routes.events import MAX_EVENT_ID, resume_point
from services.gateway.routes.transcribe_alias import options_from_form
from services.gateway.settings import GatewaySettings
from services.gateway.submissions import nul_character_at, validate_options


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(GatewaySettings(auth_disabled=True, jetscribe_dev_mode=True))


def _refused(call: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call(*args)
    return raised.value


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (b"audio/wav", "audio/wav"),
        (b" audio/wav ", "audio/wav"),
        (b'audio/wav; codecs="1"', 'audio/wav; codecs="1"'),
        (b"application/vnd.api+json;charset=utf-8", "application/vnd.api+json;charset=utf-8"),
        (None, None),
        (b"", None),
    ],
)
def test_a_media_type_is_kept_as_sent(raw: bytes | None, stored: str | None) -> None:
    assert checked_content_type(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        b"audio/wav\nX: y",
        b"audio/\x00wav",
        b"audio/wav\x7f",
        "audio/wäv".encode(),
        "audio/wäv".encode("latin-1"),
        b"audio",
        b"audio/",
        b"/wav",
        b"audio/wav; codecs",
        b"audio/wav\r\n",
        b"audio/" + b"x" * 300,
    ],
)
def test_anything_else_as_a_part_content_type_is_422(raw: bytes) -> None:
    error = _refused(checked_content_type, raw)
    assert (error.status, error.code) == (422, "invalid_request")
    assert "Content-Type" in error.message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("a.wav", "a.wav"),
        ("a\x00b.wav", "ab.wav"),
        ("a\nb\r\t.wav", "ab.wav"),
        ("a\x7f\x85b\u2028.srt", "ab.srt"),
        ("  speech.wav  ", "speech.wav"),
        ("\x00\x01", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("字幕.srt", "字幕.srt"),
        ("x" * 2100, "x" * 255),
        ("x" * 300 + ".wav", "x" * 251 + ".wav"),
        ("字" * 230 + ".wav", "字" * 83 + ".wav"),
        ("字" * 230, "字" * 85),
        ("a." + "x" * 300, ("a." + "x" * 300)[:255]),  # a 300-byte "extension" is no extension
    ],
)
def test_a_file_name_is_stored_without_controls_within_255_bytes(
    raw: str | None, stored: str
) -> None:
    name = clean_filename(raw)
    assert name == stored
    assert len(name.encode()) <= MAX_FILENAME_BYTES


@pytest.mark.parametrize(
    ("header", "start"),
    [(None, None), ("", None), ("0", 1), ("41", 42), (str(MAX_EVENT_ID), 2**63)],
)
def test_a_last_event_id_resumes_right_after_it(header: str | None, start: int | None) -> None:
    assert resume_point(header) == start


@pytest.mark.parametrize(
    "header", ["-5", "-0", "+5", "1.5", "1e3", "abc", "٣", "1_000", str(2**63), str(2**64 - 1)]
)
def test_any_other_last_event_id_is_422(header: str) -> None:
    error = _refused(resume_point, header)
    assert (error.status, error.code) == (422, "invalid_request")


@pytest.mark.parametrize("raw", ["[" * 5000, "{" * 5000, '{"a":' * 100000])
def test_form_options_nested_too_deep_are_422_invalid_options(raw: str) -> None:
    error = _refused(options_from_form, {"options": raw})
    assert (error.status, error.code) == (422, "invalid_options")


def test_a_nul_in_options_is_422_naming_where() -> None:
    assert nul_character_at({"a": ["x", {"b": "y\x00"}]}, "options") == "options.a[1].b"
    assert nul_character_at({"a\x00": 1}, "options") == "options"
    assert nul_character_at({"a": ["x", {"b": "y"}], "c": 1}, "options") is None
    deep: Any = "\x00"
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    assert nul_character_at(deep, "options") is not None
    error = _refused(validate_options, JobType.TRANSCRIBE, {"initial_prompt": "a\x00b"})
    assert (error.status, error.code) == (422, "invalid_options")
    assert "options.initial_prompt" in error.message


def test_a_405_names_every_method_of_the_path(app: FastAPI) -> None:
    client = TestClient(app)
    for method, path, allowed in [
        ("PATCH", "/v1/jobs", "GET, POST"),
        ("PUT", "/v1/files/3fa85f64-5717-4562-b3fc-2c963f66afa6", "DELETE, GET"),
        ("OPTIONS", "/v1/jobs/3fa85f64-5717-4562-b3fc-2c963f66afa6/cancel", "POST"),
        ("DELETE", "/metrics", "GET"),
    ]:
        r = client.request(method, path)
        assert r.status_code == 405, (method, path)
        assert r.headers["allow"] == allowed, (method, path)
        assert r.json()["error"]["code"] == "method_not_allowed"


def test_starlette_errors_keep_their_headers() -> None:
    from starlette.exceptions import HTTPException

    app = FastAPI()
    errors.install(app)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(400, "bad", headers={"X-Why": "because"})

    r = TestClient(app).get("/teapot")
    assert r.status_code == 400 and r.headers["x-why"] == "because"
    assert r.json() == {"error": {"code": "invalid_request", "message": "bad"}}
