"""`jetscribe.client` against an in-process fake of the API (httpx.MockTransport: no
socket): error codes, downloads that never clobber, and when a followed stream ends."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from httpx_sse import ServerSentEvent

from contracts import JobCompleted, TranscribeResult
from jetscribe.client import Client, JetscribeError
from jetscribe.following import EventStream

pytestmark = pytest.mark.unit
FILE_ID = uuid.uuid4()


def api(handler: httpx.MockTransport) -> Client:
    return Client("http://jetscribe.test", transport=handler)


def file_record(url: str | None) -> dict[str, object]:
    return {
        "id": str(FILE_ID),
        "filename": "talk.srt",
        "content_type": "application/x-subrip",
        "size": 5,
        "created_at": datetime.now(UTC).isoformat(),
        "url": url,
    }


def test_an_api_error_is_raised_with_its_stable_code() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "job_not_found", "message": "no such job"}}
        return httpx.Response(404, json=body)

    with api(httpx.MockTransport(answer)) as js, pytest.raises(JetscribeError) as raised:
        js.get(uuid.uuid4())
    assert (raised.value.code, raised.value.status) == ("job_not_found", 404)
    assert raised.value.message == "no such job"


def test_an_answer_that_is_not_the_api_shape_still_raises_clearly() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(502, text="bad gateway"))
    with api(transport) as js, pytest.raises(JetscribeError) as raised:
        js.get(uuid.uuid4())
    assert raised.value.code == "http_502" and "bad gateway" in raised.value.message


def test_a_download_writes_the_file_whole(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "s3.test":
            assert "authorization" not in request.headers  # the key never goes to S3
            return httpx.Response(200, content=b"1\n...")
        return httpx.Response(200, json=file_record("http://s3.test/jobs/x?sig=1"))

    with Client("http://jetscribe.test", "js_key", transport=httpx.MockTransport(answer)) as js:
        saved = js.download(FILE_ID, tmp_path)
    assert saved == tmp_path / "talk.srt" and saved.read_bytes() == b"1\n..."
    assert list(tmp_path.iterdir()) == [saved]


def test_a_refused_download_leaves_an_existing_file_untouched(tmp_path: Path) -> None:
    existing = tmp_path / "talk.srt"
    existing.write_text("mine")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "s3.test":
            return httpx.Response(403, text="<Error>expired</Error>")
        return httpx.Response(200, json=file_record("http://s3.test/jobs/x?sig=1"))

    with api(httpx.MockTransport(answer)) as js, pytest.raises(JetscribeError) as raised:
        js.download(FILE_ID, tmp_path)
    assert raised.value.status == 403
    assert existing.read_text() == "mine" and list(tmp_path.iterdir()) == [existing]


def _completed() -> ServerSentEvent:
    result = TranscribeResult(text="x", language="en", language_probability=1, duration_s=1,
                              segments=[])  # fmt: skip
    event = JobCompleted(job_id=uuid.uuid4(), attempt=1, producer="t", result=result)
    return ServerSentEvent(event="completed", data=event.model_dump_json(), id="7")


def test_a_stream_closed_after_a_completed_event_ends_only_if_the_job_did() -> None:
    stream = EventStream(uuid.uuid4())
    assert stream.take(_completed()) is not None and stream.last_event_id == "7"
    assert stream.needs_check  # a pipeline's first step also completes on the job
    delay = stream.closed(job_ended=False)
    assert delay is not None and not stream.ended
    assert stream.headers() == {"Last-Event-ID": "7"}  # resumed right after it
    stream.take(_completed())
    assert stream.closed(job_ended=True) is None and stream.ended


def test_a_stream_cut_before_any_end_is_resumed_and_a_history_read_just_ends() -> None:
    live = EventStream(uuid.uuid4())
    assert not live.needs_check and live.closed() is not None and not live.ended
    history = EventStream(uuid.uuid4(), live=False)
    assert history.params() == {"follow": "false"}
    assert history.closed() is None and history.ended


def test_unknown_event_kinds_are_skipped() -> None:
    stream = EventStream(uuid.uuid4())
    future = ServerSentEvent(event="teleported", data=json.dumps({"kind": "teleported"}), id="3")
    assert stream.take(future) is None and stream.last_event_id == "3"
