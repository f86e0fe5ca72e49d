"""What the client raises: `JetscribeError`, carrying the API's stable error code."""

from __future__ import annotations

from typing import Any

import httpx

UNREACHABLE = "unreachable"  # no HTTP answer at all: refused, timed out, cut off


class JetscribeError(Exception):
    """An API error: `code` is the stable `error.code` of the gateway's answer (for
    example `file_not_found`, `invalid_options`, `unauthorized`), `status` the HTTP
    status (0 when the server could not be reached)."""

    def __init__(self, code: str, message: str, status: int = 0) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def from_response(cls, response: httpx.Response) -> JetscribeError:
        code, message = f"http_{response.status_code}", response.reason_phrase
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or code)
            message = str(error.get("message") or message)
        elif response.text:
            message = response.text[:500]
        return cls(code, message, response.status_code)

    @classmethod
    def unreachable(cls, server: str, exc: Exception) -> JetscribeError:
        return cls(UNREACHABLE, f"cannot reach {server}: {exc or type(exc).__name__}")
