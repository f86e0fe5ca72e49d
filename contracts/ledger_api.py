"""Request-reply API of the ledger on `ledger.>` (used by the gateway).

Every reply carries either its payload or an `error` with a stable code, never both.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from .base import Message
from .commands import SubmitJob
from .enums import JobStatus, JobType
from .records import ErrorInfo, FileRecord, JobRecord, WebhookDelivery


class JobCreateRequest(Message):
    submit: SubmitJob


class JobGetRequest(Message):
    job_id: UUID
    owner: str = Field(description="The tenant asking; it sees only its own jobs and files.")
    mark_retrieved: bool = Field(
        default=False, description="Record that a client fetched the result (retention)."
    )


class JobListRequest(Message):
    owner: str = Field(description="The tenant asking; it sees only its own jobs and files.")
    status: JobStatus | None = None
    type: JobType | None = None
    parent_id: UUID | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None


class JobCancelRequest(Message):
    job_id: UUID
    owner: str = Field(description="The tenant asking; it sees only its own jobs and files.")


class JobWebhooksRequest(Message):
    job_id: UUID
    owner: str = Field(description="The tenant asking; it sees only its own jobs and files.")


class JobWebhooksResponse(Message):
    items: list[WebhookDelivery] = Field(default_factory=list)
    error: ErrorInfo | None = None


class JobResponse(Message):
    job: JobRecord | None = None
    created: bool = False
    error: ErrorInfo | None = None


class JobListResponse(Message):
    items: list[JobRecord] = Field(default_factory=list)
    next_cursor: str | None = None
    error: ErrorInfo | None = None


class FileRegisterRequest(Message):
    file_id: UUID
    object_key: str
    filename: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str | None = None
    duration_s: float | None = None
    owner: str = Field(description="The tenant asking; it sees only its own jobs and files.")


class FileGetRequest(Message):
    file_id: UUID
    owner: str = Field(description="The tenant asking; it sees only its own jobs and files.")


class FileDeleteRequest(Message):
    file_id: UUID
    owner: str = Field(description="The tenant asking; it sees only its own jobs and files.")


class FileResponse(Message):
    file: FileRecord | None = None
    object_key: str | None = None
    error: ErrorInfo | None = None
