"""The OpenAPI document says which errors each operation answers, and in what shape.

FastAPI documents an operation's success and, for one with parameters, its own 422
body (`{"detail": [...]}`). The gateway answers every error as `{"error": {"code",
"message"}}` (errors.py), with the statuses below: `ERROR_STATUSES` names them per
operation, and the document gets them with the `ErrorOut` schema, FastAPI's 422
replaced. An operation of the API missing from `ERROR_STATUSES` is a test failure
(tests/unit/test_gateway_openapi.py), not a silently undocumented one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from contracts import ErrorInfo


class ErrorOut(BaseModel):
    """Every error answer: a stable `code` to match on, a `message` for people."""

    error: ErrorInfo


class OpenAIErrorInfo(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error, requests (429) or server_error.")
    param: str | None = Field(description="The request field at fault, if one is.")
    code: str = Field(description="jetscribe's stable code (OpenAI's name where it has one).")


class OpenAIErrorOut(BaseModel):
    """The errors of the OpenAI-compatible endpoints (/v1/audio/*), in OpenAI's shape."""

    error: OpenAIErrorInfo


# Every tenant's operation: no or an unknown key, over the rate, a dependency down.
AUTHENTICATED = (401, 429, 503)

# OpenAI's endpoints answer a request they cannot take with 400 (never 422 or 413).
AUDIO_STATUSES = (400, 500, 504)
AUDIO_PREFIX = "/v1/audio/"

# (method, path) → what the operation answers besides AUTHENTICATED and success.
ERROR_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/v1/files"): (400, 413, 422),
    ("GET", "/v1/files/{file_id}"): (404, 422),
    ("GET", "/v1/files/{file_id}/content"): (404, 422),
    ("DELETE", "/v1/files/{file_id}"): (404, 422),
    ("POST", "/v1/jobs"): (400, 404, 422),
    ("GET", "/v1/jobs"): (422,),
    ("GET", "/v1/jobs/{job_id}"): (404, 410, 422),
    ("GET", "/v1/jobs/{job_id}/webhooks"): (404, 422),
    ("POST", "/v1/jobs/{job_id}/cancel"): (404, 409, 422),
    ("GET", "/v1/jobs/{job_id}/events"): (404, 422),
    ("POST", "/v1/batches"): (400, 404, 422),
    ("POST", "/transcribe"): (400, 413, 422),
    ("GET", "/transcribe/{job_id}"): (404, 410, 422),
    ("GET", "/v1/dead-letters"): (403, 422),
    ("GET", "/v1/queue"): (403,),
    ("GET", "/v1/job-types"): (),
    ("POST", "/v1/audio/transcriptions"): AUDIO_STATUSES,
    ("POST", "/v1/audio/translations"): AUDIO_STATUSES,
}
# Operations for the orchestrator and Prometheus: no key, no error of the API's shape.
UNAUTHENTICATED = frozenset({("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")})

DESCRIPTIONS = {
    400: "The body cannot be parsed (a multipart body cut short, JSON nested too deeply).",
    401: "No API key, or an unknown one (`WWW-Authenticate` says which).",
    403: "Not for this tenant (operator views are for `OPERATOR_TENANTS`).",
    404: "No such job or file for this tenant (`job_not_found`, `file_not_found`).",
    409: "The job is already terminal (`job_finished`).",
    410: "The job's retention ran out: its media and result are deleted (`expired`).",
    413: "The upload or a form field is too large (`payload_too_large`).",
    422: "Invalid request: `invalid_request`, `invalid_options` or `unknown_job_type`; "
    "`message` names the field.",
    429: "Over the tenant's request rate (`rate_limited`); `Retry-After` says when to retry.",
    503: "A dependency (job ledger, NATS, S3) is down (`unavailable`); retry after "
    "`Retry-After` seconds.",
}
AUDIO_DESCRIPTIONS = {
    **DESCRIPTIONS,
    400: "A field OpenAI's API would refuse (`param` names it), an unknown `model` "
    "(`model_not_found`), a file that is not media (`unreadable_media`) or too large "
    "(`payload_too_large`), a job cancelled or expired.",
    500: "The job failed inside jetscribe (`internal`, `retries_exhausted`, ...).",
    503: "A dependency is down (`unavailable`), or the job's whole result is too large "
    "for one answer (then `GET /v1/jobs/{id}` gives a link to it).",
    504: "The job is still running after OPENAI_MAX_WAIT_S (`timeout`); it goes on, "
    "`X-Jetscribe-Job-Id` names it.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}
ERROR_REF = "#/components/schemas/ErrorOut"
OPENAI_ERROR_REF = "#/components/schemas/OpenAIErrorOut"
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def error_response(status: int, openai: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": (AUDIO_DESCRIPTIONS if openai else DESCRIPTIONS)[status],
        "content": {
            "application/json": {"schema": {"$ref": OPENAI_ERROR_REF if openai else ERROR_REF}}
        },
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def declare_errors(document: dict[str, Any]) -> None:
    """Add each operation's error answers to a FastAPI-generated document, in place."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorOut, OpenAIErrorOut):
        error_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in error_schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[model.__name__] = error_schema
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            # FastAPI's 422 is {"detail": [...]}: never what the gateway sends.
            validated = responses.pop("422", None) is not None
            statuses = ERROR_STATUSES.get((method.upper(), path))
            if statuses is None:  # not in the table (the unit test says so): 422 at least
                statuses = (422,) if validated else ()
            else:
                statuses = (*statuses, *AUTHENTICATED)
            openai = path.startswith(AUDIO_PREFIX)
            for status in sorted(set(statuses)):
                responses[str(status)] = error_response(status, openai)
    for name in FASTAPI_VALIDATION_SCHEMAS:  # referred to by FastAPI's 422 only
        schemas.pop(name, None)


def install(app: FastAPI) -> None:
    """Serve the document with `declare_errors` applied (once per generated document)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI's, cached until the routes change
        if "ErrorOut" not in document.get("components", {}).get("schemas", {}):
            declare_errors(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
