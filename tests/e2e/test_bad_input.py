"""Bad input gets a clear error with a stable code, and nothing else is lost."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


@pytest.fixture(scope="module")
def file_id(api: Api, speech_wav: Path) -> str:
    return str(api.upload(speech_wav)["id"])


def error_of(response: object) -> dict:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def test_an_unknown_job_type_is_422_unknown_job_type(api: Api, file_id: str) -> None:
    r = api.http.post("/v1/jobs", json={"type": "teleport", "file_id": file_id})
    assert r.status_code == 422
    assert error_of(r)["code"] == "unknown_job_type"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"beam_size": 0}, "options.beam_size"),
        ({"task": "dance"}, "options.task"),
        ({"no_such_option": 1}, "options.no_such_option"),
    ],
)
def test_invalid_options_are_422_naming_the_field(
    api: Api, file_id: str, options: dict, field: str
) -> None:
    r = api.http.post(
        "/v1/jobs", json={"type": "transcribe", "file_id": file_id, "options": options}
    )
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "invalid_options"
    assert field in err["message"]


def test_an_unknown_file_is_404_file_not_found(api: Api) -> None:
    r = api.http.post("/v1/jobs", json={"type": "transcribe", "file_id": str(uuid.uuid4())})
    assert r.status_code == 404
    assert error_of(r)["code"] == "file_not_found"
    assert api.http.get(f"/v1/files/{uuid.uuid4()}").status_code == 404


def test_an_unknown_job_is_404(api: Api) -> None:
    r = api.http.get(f"/v1/jobs/{uuid.uuid4()}")
    assert r.status_code == 404
    assert error_of(r)["code"] == "job_not_found"


def test_an_upload_over_the_cap_is_413_and_not_stored(api: Api, tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * (6 * 1024 * 1024))  # the module's cap is 5 MiB
    with big.open("rb") as fh:
        r = api.http.post("/v1/files", files={"file": ("big.wav", fh, "audio/wav")})
    assert r.status_code == 413
    assert error_of(r)["code"] == "payload_too_large"


def test_a_form_without_a_file_is_422(api: Api) -> None:
    r = api.http.post("/v1/files", data={"not_file": "x"}, files={"other": ("a", b"b")})
    assert r.status_code == 422
    assert error_of(r)["code"] == "invalid_request"
    r = api.http.post("/v1/files", content=b"raw", headers={"content-type": "audio/wav"})
    assert r.status_code == 422


def test_a_multipart_body_cut_before_its_closing_boundary_is_400(
    api: Api,
) -> None:
    head = b'--cut\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    r = api.http.post(
        "/v1/files",
        content=head + b"RIFF" + b"\0" * 4096,  # no "--cut--": the client stopped mid-file
        headers={"content-type": "multipart/form-data; boundary=cut"},
    )
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalid_request"
    assert "closing boundary" in error_of(r)["message"]


def test_two_file_fields_are_422(api: Api) -> None:
    r = api.http.post("/v1/files", files=[("file", ("a.wav", b"a")), ("file", ("b.wav", b"b"))])
    assert r.status_code == 422
    assert error_of(r)["code"] == "invalid_request"


def test_a_malformed_json_body_is_422(api: Api) -> None:
    r = api.http.post("/v1/jobs", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert error_of(r)["code"] == "invalid_request"


def test_health_readiness_and_metrics_answer(api: Api, stack: Stack) -> None:
    assert api.http.get("/healthz").json() == {"status": "ok"}
    ready = api.http.get("/readyz").json()
    assert ready["status"] == "ready" and all(ready["checks"].values())
    assert "jetscribe_gateway_requests_total" in api.http.get("/metrics").text
    assert api.http.get("/docs").status_code == 200
    assert "/v1/jobs" in api.http.get("/openapi.json").json()["paths"]


def test_an_input_deleted_before_its_job_runs_fails_with_file_not_found(
    api: Api, stack: Stack, speech_wav: Path
) -> None:
    stack["transcriber"].stop()
    try:
        file_id = api.upload(speech_wav)["id"]
        job = api.submit(file_id)
        assert api.http.delete(f"/v1/files/{file_id}").status_code == 204
        assert api.http.get(f"/v1/files/{file_id}").status_code == 404
    finally:
        stack["transcriber"].start()
        stack["transcriber"].wait_ready()
    failed = api.wait(job["id"], 60)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "file_not_found"
    assert failed["attempt"] == 1
