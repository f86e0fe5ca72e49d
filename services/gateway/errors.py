"""API errors: JSON `{"error": {"code", "message"}}` with a stable code."""

from __future__ import annotations

from typing import Self

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from contracts import ErrorCode, ErrorInfo, first_error

from .openai.errors import is_openai_path, openai_body, openai_status

# Where FastAPI says a bad value came from: not part of the field's name in our errors.
REQUEST_PARTS = ("body", "query", "path")

# Ledger error codes → HTTP status.
STATUS_BY_CODE: dict[str, int] = {
    ErrorCode.FILE_NOT_FOUND: 404,
    ErrorCode.JOB_NOT_FOUND: 404,
    ErrorCode.INVALID_OPTIONS: 422,
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.UNKNOWN_JOB_TYPE: 422,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.EXPIRED: 410,
    ErrorCode.UNAVAILABLE: 503,
    "job_finished": 409,
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.param = param  # the request field at fault (OpenAI's error shape names it)

    @classmethod
    def from_info(cls, info: ErrorInfo) -> Self:
        return cls(STATUS_BY_CODE.get(info.code, 500), info.code, info.message)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    param: str | None = None,
) -> JSONResponse:
    """Our error shape, or OpenAI's under /v1/audio/ (its SDK parses that one)."""
    if is_openai_path(request.url.path):
        status = openai_status(status)
        return JSONResponse(openai_body(status, code, message, param), status, headers or None)
    return JSONResponse(error_body(code, message), status_code=status, headers=headers or None)


RETRY_AFTER_S = 5  # what a client is told to wait when a dependency is down (503)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status == 503:
            headers.setdefault("Retry-After", str(RETRY_AFTER_S))
        return error_response(request, exc.status, exc.code, exc.message, headers, exc.param)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if p not in REQUEST_PARTS]
        code = ErrorCode.INVALID_OPTIONS if loc[:1] == ["options"] else ErrorCode.INVALID_REQUEST
        message = first_error([{**first, "loc": loc}])
        return error_response(request, 422, code, message, param=".".join(loc) or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs it and re-raises after this answer: the client still gets our shape.
        return error_response(request, 500, ErrorCode.INTERNAL, "internal error")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})  # 405's Allow, 401's WWW-Authenticate, ...
        if exc.status_code == 405:
            allowed = allowed_methods(app.router.routes, request.scope)
            headers["Allow"] = allowed or headers.get("Allow", "")
        return error_response(request, exc.status_code, code, str(exc.detail), headers)


# Starlette's own errors (no route, wrong method, unparsable body) → a stable code.
HTTP_ERROR_CODES = {
    400: ErrorCode.INVALID_REQUEST.value,
    404: "not_found",
    405: "method_not_allowed",
}


# What a 405's `Allow` may name: the methods the API declares, and HEAD for Starlette's own.
METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> str:
    """Every method the request's path answers to (RFC 9110 `Allow`). Starlette names
    only those of the first route matching the path, and a path here often has one
    route per method (GET and POST /v1/jobs): each method is tried against the routes
    as the router would (FastAPI nests included routers, so no flat route list)."""
    allowed = []
    for method in METHODS:
        probe = {**scope, "method": method, "fastapi": {}, "path_params": {}}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)
