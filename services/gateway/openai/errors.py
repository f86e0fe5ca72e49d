"""OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, with the
HTTP statuses its SDK maps to exception classes (400 BadRequestError, 401
AuthenticationError, 404 NotFoundError, 429 RateLimitError, 5xx InternalServerError).

Every error under `/v1/audio/` is answered this way, whatever raised it (the key check,
the upload, the request's fields, the job). `code` is jetscribe's stable code, except
where OpenAI has its own name for the same thing.
"""

from __future__ import annotations

from typing import Any

from contracts import ErrorCode

PREFIX = "/v1/audio/"

# A job that ended without a result: its error code → the status of the answer.
FAILURE_STATUS: dict[str, int] = {
    ErrorCode.UNREADABLE_MEDIA: 400,
    ErrorCode.UNSUPPORTED_MEDIA: 400,
    ErrorCode.INVALID_OPTIONS: 400,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.FILE_NOT_FOUND: 400,
    ErrorCode.PAYLOAD_TOO_LARGE: 400,
}
OPENAI_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}


def is_openai_path(path: str) -> bool:
    return path.startswith(PREFIX)


# The 4xx statuses OpenAI's SDK has an exception class for (besides 422, which OpenAI
# itself never answers); any other 4xx here becomes 400 (BadRequestError), its code kept.
# 405 stays: the SDK only ever POSTs, and HTTP (RFC 9110) wants a 405 with `Allow`.
SDK_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 405, 409, 429})


def openai_status(status: int) -> int:
    """What the OpenAI endpoints answer for one of our statuses."""
    if 400 <= status < 500 and status not in SDK_CLIENT_ERRORS:
        return 400
    return status


def openai_body(status: int, code: str, message: str, param: str | None) -> dict[str, Any]:
    if status == 429:
        kind = "requests"
    elif status >= 500:
        kind = "server_error"
    else:
        kind = "invalid_request_error"
    return {
        "error": {
            "message": message,
            "type": kind,
            "param": param,
            "code": OPENAI_CODES.get(status, code),
        }
    }


def failure_status(code: str) -> int:
    return FAILURE_STATUS.get(code, 500)
