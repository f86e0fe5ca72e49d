"""The REST calls of the gateway as data: what to send, and how to read the answer.

`Client` and `AsyncClient` differ only in how they send a `Call`; everything else
(paths, bodies, answer parsing, errors) is here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, Field, ValidationError

from contracts import FileRecord, JobRecord, JobStatus, JobType, PipelineStep

from .errors import JetscribeError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Step = PipelineStep | Mapping[str, Any]


class JobPage(BaseModel):
    """One page of `GET /v1/jobs`, newest first; `next_cursor` continues after it."""

    items: list[JobRecord] = Field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None  # None: the client's own

    def answer(self, response: httpx.Response) -> T:
        if response.is_error:
            raise JetscribeError.from_response(response)
        return self.read(response)


def model_of(model: type[M]) -> Callable[[httpx.Response], M]:
    def read(response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise JetscribeError(
                "unexpected_answer",
                f"{response.request.method} {response.request.url.path}: not a {model.__name__}"
                f" ({exc.error_count()} errors)",
                response.status_code,
            ) from exc

    return read


def _nothing(_: httpx.Response) -> None:
    return None


def get_job(job_id: UUID | str, wait_s: float = 0) -> Call[JobRecord]:
    params = {"wait": wait_s} if wait_s > 0 else {}
    # The server holds the answer up to wait_s: the read timeout must outlast it.
    timeout = wait_s + 30 if wait_s > 0 else None
    return Call("GET", f"/v1/jobs/{job_id}", model_of(JobRecord), params, timeout=timeout)


def list_jobs(
    status: JobStatus | str | None,
    type: JobType | str | None,
    parent_id: UUID | str | None,
    limit: int,
    cursor: str | None,
) -> Call[JobPage]:
    params = {"status": status, "type": type, "parent_id": parent_id, "cursor": cursor}
    return Call(
        "GET",
        "/v1/jobs",
        model_of(JobPage),
        {"limit": limit, **{k: _text(v) for k, v in params.items() if v is not None}},
    )


def cancel_job(job_id: UUID | str) -> Call[JobRecord]:
    return Call("POST", f"/v1/jobs/{job_id}/cancel", model_of(JobRecord))


def get_file(file_id: UUID | str) -> Call[FileRecord]:
    return Call("GET", f"/v1/files/{file_id}", model_of(FileRecord))


def delete_file(file_id: UUID | str) -> Call[None]:
    return Call("DELETE", f"/v1/files/{file_id}", _nothing)


def submit_job(
    type: JobType | str,
    file_id: UUID | str,
    options: Mapping[str, Any] | None,
    then: Sequence[Step],
    idempotency_key: str | None,
    **settings: Any,
) -> Call[JobRecord]:
    body = {"type": _text(type), "file_id": str(file_id), **_settings(options, then, settings)}
    return Call("POST", "/v1/jobs", model_of(JobRecord), json=body, headers=_key(idempotency_key))


def submit_batch(
    type: JobType | str,
    file_ids: Sequence[UUID | str],
    options: Mapping[str, Any] | None,
    then: Sequence[Step],
    idempotency_key: str | None,
    **settings: Any,
) -> Call[JobRecord]:
    body = {
        "type": _text(type),
        "file_ids": [str(f) for f in file_ids],
        **_settings(options, then, settings),
    }
    return Call(
        "POST", "/v1/batches", model_of(JobRecord), json=body, headers=_key(idempotency_key)
    )


def _settings(
    options: Mapping[str, Any] | None, then: Sequence[Step], settings: dict[str, Any]
) -> dict[str, Any]:
    steps = [s.model_dump(mode="json") if isinstance(s, PipelineStep) else dict(s) for s in then]
    given = {k: v for k, v in settings.items() if v is not None}
    return {"options": dict(options or {}), "then": steps, **given}


def _key(idempotency_key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": idempotency_key} if idempotency_key else {}


def _text(value: object) -> str:
    """An enum member's value, anything else as text."""
    inner = getattr(value, "value", value)
    return str(inner)
