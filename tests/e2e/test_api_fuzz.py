"""The gateway's REST API under generated requests: schemathesis, from its /openapi.json.

Every operation of the running gateway's OpenAPI document gets schema-valid and invalid
requests (schemathesis's examples, coverage and fuzzing phases; a bounded number each).
No answer is ever a 5xx, every answer (success or error) has a status, content type and
body the document declares, every error is the API's `{"error": {"code", "message"}}`
with one of the statuses it uses, an undeclared method is 405 with `Allow`, and
schemathesis's other checks hold (schema-invalid requests refused, schema-valid ones
accepted, ...). Each check turned off below says why: a gap in the generated document.

Requests the generator cannot make (multipart part headers, file names) or only rarely
(numbers past 64 bits, an SSE resume point) are hand-made in the last tests.

The stack is the ledger and the gateway only (no worker: jobs stay pending unless
cancelled), with `?wait=` capped at 1 s so that no request blocks.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.support.client import Api
from tests.support.stack import Stack

CONFIG = schemathesis.Config.from_str(
    """
# A request that hangs (an SSE stream that never ends) fails instead of blocking.
request-timeout = 10

[generation]
max-examples = 30
database = "none"  # no .hypothesis/ in the working tree

# `type` is an enum of the submittable types, but `options` is any object in the
# document (the options of each job type are checked by the gateway, and 422
# `invalid_options` when wrong), and a `callback_url` is refused where no webhook secret
# is configured (as here): a schema-valid submission is mostly an invalid one.
[[operations]]
include-path = ["/v1/jobs", "/v1/batches"]
include-method = "POST"
checks.positive_data_acceptance.enabled = false

# `cursor` is an opaque token from an earlier page: a made-up one is rightly refused.
[[operations]]
include-path = "/v1/jobs"
include-method = "GET"
checks.positive_data_acceptance.enabled = false

# OpenAI's endpoints wait for their job, and no worker runs here: a valid call waits
# OPENAI_MAX_WAIT_S (1 s) and is answered 504 `timeout`, as documented.
[[operations]]
include-path-regex = "^/v1/audio/"
checks.not_a_server_error.enabled = false
checks.positive_data_acceptance.enabled = false

# The SSE stream of a job that is not terminal never ends: no ids of jobs made during
# the run (they stay pending), only the known job (cancelled, below) and made-up ids.
[[operations]]
include-path = "/v1/jobs/{job_id}/events"
phases.fuzzing.extra-data-sources.responses = false
"""
)

# What the gateway answers besides success: errors.py's STATUS_BY_CODE, 403 (operator
# routes) and Starlette's own (400 unparsable body, 404 no route, 405 method). No 5xx.
ERROR_STATUSES = {400, 401, 403, 404, 405, 409, 410, 413, 422, 429}


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "gateway")


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {"MAX_UPLOAD_BYTES": str(1024 * 1024), "MAX_WAIT_S": "1", "OPENAI_MAX_WAIT_S": "1"}


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


@pytest.fixture(scope="module")
def known(api: Api) -> dict[str, str]:
    """A stored file and a (cancelled, so terminal) job for requests to name."""
    r = api.http.post("/v1/files", files={"file": ("a.wav", b"\0" * 64, "audio/wav")})
    assert r.status_code == 201, r.text
    file_id = str(r.json()["id"])
    job_id = str(api.submit(file_id)["id"])
    r = api.http.post(f"/v1/jobs/{job_id}/cancel")
    assert r.status_code == 202, r.text
    assert api.get(job_id)["status"] == "cancelled"
    return {"file_id": file_id, "job_id": job_id}


@pytest.fixture(scope="module")
def api_schema(stack: Stack) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{stack.gateway_url}/openapi.json", config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy loader reads and writes `Node._nodeid`, which pytest 9.2
    no longer has (`nodeid` is derived from `Node._id`): give it a plain attribute."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _content_type(headers: Any) -> str:
    for key, value in headers.items():
        if key.lower() == "content-type":
            return str(value[0] if isinstance(value, list) else value)
    return ""


def _check_error(status: int, headers: Any, body: Any) -> None:
    """An error is one of the API's statuses with its JSON `{"error": {"code", "message"}}`."""
    assert status in ERROR_STATUSES, f"unexpected status {status}"
    content_type = _content_type(headers)
    assert content_type.startswith("application/json"), f"error as {content_type!r}"
    assert isinstance(body, dict) and set(body) == {"error"}, f"error body {body!r}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, f"error {error!r}"
    assert isinstance(error["code"], str) and error["code"], f"error code {error!r}"
    assert isinstance(error["message"], str), f"error message {error!r}"


def _check_openai_error(status: int, body: Any) -> None:
    """Under /v1/audio/: OpenAI's `{"error": {"message", "type", "param", "code"}}`,
    never a 422 (OpenAI answers 400)."""
    assert status in ERROR_STATUSES - {422} | {500, 504}, f"unexpected status {status}"
    assert isinstance(body, dict) and set(body) == {"error"}, f"error body {body!r}"
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, f"error {error!r}"
    assert error["type"] in ("invalid_request_error", "requests", "server_error"), error
    assert isinstance(error["code"], str) and error["code"], f"error code {error!r}"


def error_contract(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    if case.path.startswith("/v1/audio/") and response.status_code >= 400:
        _check_openai_error(response.status_code, response.json())
    elif 400 <= response.status_code < 500:  # a 5xx is not_a_server_error's to report
        _check_error(response.status_code, response.headers, response.json())
    return None


def _name_known(case: Case[Any], known: dict[str, str]) -> None:
    """Made-up ids mostly answer 404: for about half of the cases, name the stored file
    and job instead. Only in place of a valid id, so a request meant to be invalid stays
    invalid; chosen from the id itself (`@schema.given` would turn the coverage phase off).
    """
    for name in ("job_id", "file_id"):
        value = (case.path_parameters or {}).get(name)
        try:
            made_up = uuid.UUID(value) if isinstance(value, str) else None
        except ValueError:
            made_up = None
        if made_up is not None and made_up.int % 2 == 0 and case.path_parameters:
            case.path_parameters[name] = known[name]


@schema.parametrize()
def test_the_api_never_fails_and_answers_as_documented(
    case: Case[Any], known: dict[str, str]
) -> None:
    _name_known(case, known)
    case.call_and_validate(additional_checks=[error_contract])


# --- what the generator does not send ------------------------------------------------------


def test_an_undeclared_method_is_405_naming_the_allowed_ones(api: Api) -> None:
    """RFC 9110: a 405 carries `Allow` (schemathesis's unsupported_method check)."""
    document = api.http.get("/openapi.json").json()
    wrong = []
    for path, operations in document["paths"].items():
        declared = {m.upper() for m in operations if m in ("get", "post", "put", "delete")}
        url = path.replace("{job_id}", str(uuid.uuid4())).replace("{file_id}", str(uuid.uuid4()))
        r = api.http.request("PATCH", url)
        allowed = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
        if r.status_code != 405 or not declared <= allowed:
            wrong.append(f"PATCH {path}: {r.status_code}, Allow: {r.headers.get('allow')!r}")
    assert not wrong, "\n".join(wrong)


def _multipart(
    filename: bytes = b"a.wav", content_type: bytes = b"audio/wav", **fields: bytes
) -> bytes:
    parts = [
        b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v)
        for k, v in fields.items()
    ]
    parts.append(
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
        b"Content-Type: %s\r\n\r\nRIFF\r\n" % (filename, content_type)
    )
    return b"".join(parts) + b"--B--\r\n"


MULTIPART = {"content-type": "multipart/form-data; boundary=B"}
# Each found by hand while writing this module; 5xx (or a broken stream) at the time.
EDGE_REQUESTS: dict[str, tuple[str, str, dict[str, str], bytes | None]] = {
    "part Content-Type with a line feed": (
        "POST", "/v1/files", MULTIPART, _multipart(content_type=b"audio/wav\nX: y")
    ),
    "part Content-Type with a NUL": (
        "POST", "/v1/files", MULTIPART, _multipart(content_type=b"audio/\x00wav")
    ),
    "file name with a NUL": ("POST", "/v1/files", MULTIPART, _multipart(filename=b"a\x00b.wav")),
    "file name of 2100 characters": (
        "POST", "/v1/files", MULTIPART, _multipart(filename=b"x" * 2100)
    ),
    "file name of 230 CJK characters": (
        "POST", "/v1/files", MULTIPART, _multipart(filename="字".encode() * 230)
    ),
    "POST /transcribe, options nested 5000 deep": (
        "POST", "/transcribe", MULTIPART, _multipart(options=b"[" * 5000)
    ),
    "dead letters before 2**63": ("GET", f"/v1/dead-letters?before={2**63}", {}, None),
    "SSE resume after event -5": ("GET", "/v1/jobs/{job_id}/events", {"last-event-id": "-5"}, None),
    "SSE resume after event 2**64 - 1": (
        "GET", "/v1/jobs/{job_id}/events", {"last-event-id": str(2**64 - 1)}, None
    ),
    "part Content-Type with a DEL": (
        "POST", "/v1/files", MULTIPART, _multipart(content_type=b"audio/wav\x7f")
    ),
    "part Content-Type not ASCII": (
        "POST", "/v1/files", MULTIPART, _multipart(content_type="audio/wäv".encode())
    ),
    "POST /transcribe, a NUL in an option": (
        "POST", "/transcribe", MULTIPART, _multipart(initial_prompt=b"a\x00b")
    ),
    "POST /v1/jobs, a NUL in an option": (
        "POST", "/v1/jobs", {"content-type": "application/json"},
        b'{"type": "transcribe", "file_id": "{file_id}", "options": {"initial_prompt": "\\u0000"}}',
    ),
}  # fmt: skip
# What each is answered now: (status, error code), or the stored file name of an upload.
EDGE_ANSWERS: dict[str, tuple[int, str]] = {
    "part Content-Type with a line feed": (422, "invalid_request"),
    "part Content-Type with a NUL": (422, "invalid_request"),
    "part Content-Type with a DEL": (422, "invalid_request"),
    "part Content-Type not ASCII": (422, "invalid_request"),
    "file name with a NUL": (201, "ab.wav"),
    "file name of 2100 characters": (201, "x" * 255),
    "file name of 230 CJK characters": (201, "字" * 85),
    "POST /transcribe, options nested 5000 deep": (422, "invalid_options"),
    "POST /transcribe, a NUL in an option": (422, "invalid_options"),
    "POST /v1/jobs, a NUL in an option": (422, "invalid_options"),
    "dead letters before 2**63": (422, "invalid_request"),
    "SSE resume after event -5": (422, "invalid_request"),
    "SSE resume after event 2**64 - 1": (422, "invalid_request"),
}


@pytest.mark.parametrize("name", EDGE_REQUESTS)
def test_hand_made_edge_requests_are_answered_without_a_server_error(
    api: Api, known: dict[str, str], name: str
) -> None:
    method, path, headers, body = EDGE_REQUESTS[name]
    url = path.format(**known)
    body = body.replace(b"{file_id}", known["file_id"].encode()) if body else body
    try:  # a stream the server breaks off raises here
        r = api.http.request(method, url, headers=headers, content=body, timeout=30)
    except httpx.HTTPError as exc:
        pytest.fail(f"{method} {url}: {exc!r}")
    assert r.status_code < 500, f"{method} {url}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        _check_error(r.status_code, r.headers, r.json())
    status, what = EDGE_ANSWERS[name]
    assert r.status_code == status, r.text
    assert (r.json()["filename"] if status == 201 else r.json()["error"]["code"]) == what


def test_a_long_file_name_keeps_its_extension_within_255_utf8_bytes(api: Api) -> None:
    name = "字" * 230 + ".wav"
    r = api.http.post("/v1/files", content=_multipart(filename=name.encode()), headers=MULTIPART)
    assert r.status_code == 201, r.text
    stored = r.json()["filename"]
    assert stored == "字" * 83 + ".wav" and len(stored.encode()) <= 255
    assert r.json()["content_type"] == "audio/wav"


def test_a_valid_part_content_type_is_stored_as_sent(api: Api) -> None:
    body = _multipart(content_type=b'audio/wav; codecs="1"')
    r = api.http.post("/v1/files", content=body, headers=MULTIPART)
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == 'audio/wav; codecs="1"'


def test_the_largest_ids_are_still_accepted(api: Api, known: dict[str, str]) -> None:
    """2**63 - 1: the last dead-letter id and SSE resume point that are valid."""
    r = api.http.get("/v1/dead-letters", params={"before": 2**63 - 1})
    assert r.status_code == 200, r.text
    events = f"/v1/jobs/{known['job_id']}/events"
    r = api.http.get(events, headers={"last-event-id": str(2**63 - 1)}, timeout=30)
    assert r.status_code == 200, r.text
    assert "event: snapshot" in r.text  # nothing after it: the cancelled job as it stands
