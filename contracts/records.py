"""Records the ledger keeps and returns: files and jobs (the REST shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from .base import Model
from .enums import JobStatus, JobType


class ErrorInfo(Model):
    code: str
    message: str


class OutputFile(Model):
    """A file a worker wrote to S3; the ledger registers it when the job completes."""

    id: UUID
    object_key: str
    filename: str
    content_type: str
    size: int
    sha256: str | None = None
    duration_s: float | None = None


class FileRecord(Model):
    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str | None = None
    duration_s: float | None = None
    created_at: datetime
    url: str | None = None
    job_id: UUID | None = Field(default=None, description="The job that produced it, if any.")


class StepState(Model):
    """One step of a pipeline as shown on the top-level job."""

    index: int
    type: JobType
    status: JobStatus
    job_id: UUID | None = None


class JobRecord(Model):
    id: UUID
    type: JobType | str = Field(description="A JobType; an unknown submitted type is kept as sent.")
    status: JobStatus
    progress: float = 0.0
    attempt: int = 1
    file_id: UUID | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    parent_id: UUID | None = None
    language: str | None = None
    output_file_ids: list[UUID] = Field(default_factory=list)
    steps: list[StepState] | None = None
    file_ids: list[UUID] | None = Field(default=None, description="A batch's input files.")
    callback_url: str | None = None
    retention_hours: float | None = None
    delete_after_retrieval: bool = False
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    retrieved_at: datetime | None = None
    ttl_deadline: datetime | None = None


class WebhookAttempt(Model):
    """One try at delivering a job's terminal-state webhook."""

    attempt: int
    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: float | None = None


class WebhookDelivery(Model):
    """The webhook of one job: `pending` (retrying), `delivered` or `failed` (given up)."""

    url: str
    status: str
    attempts: list[WebhookAttempt] = Field(default_factory=list)
    next_attempt_at: datetime | None = None
    created_at: datetime
    finished_at: datetime | None = None
