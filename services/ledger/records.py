"""What the ledger stores, as typed values: rows read back, jobs and messages to write.

Pure data (no I/O): the PostgreSQL adapter turns its records into these, and the use
cases and the planner work on these only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts import ErrorInfo, FileRecord, JobRecord, JobStatus, StepState

from .fold import JobState


@dataclass(frozen=True)
class JobRow:
    """One row of `jobs`, every column the ledger reads."""

    id: UUID
    owner: str
    type: str
    status: JobStatus
    options: dict[str, Any]
    file_id: UUID | None
    file_ids: list[UUID] | None
    output_file_ids: list[UUID]
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    attempt: int
    progress: float
    language: str | None
    parent_id: UUID | None
    pipeline: list[dict[str, Any]] | None
    pipeline_root: UUID | None
    pipeline_index: int | None
    retention_hours: float | None
    delete_after_retrieval: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    retrieved_at: datetime | None
    ttl_deadline: datetime | None
    steps: list[dict[str, Any]] | None
    correlation_id: str | None
    callback_url: str | None
    cache_key: str | None
    cache_model: str | None
    cached_from: UUID | None

    @property
    def state(self) -> JobState:
        return JobState(
            status=self.status,
            attempt=self.attempt,
            progress=self.progress,
            started_at=self.started_at,
            finished_at=self.finished_at,
            result=self.result,
            error_code=self.error_code,
            error_message=self.error_message,
            language=self.language,
            output_file_ids=tuple(self.output_file_ids),
            retention_hours=self.retention_hours,
            ttl_deadline=self.ttl_deadline,
            steps=self.steps,
            model=self.cache_model,
        )

    def record(self) -> JobRecord:
        """The job as the ledger's API returns it."""
        error = (
            ErrorInfo(code=self.error_code, message=self.error_message or "")
            if self.error_code
            else None
        )
        return JobRecord(
            id=self.id,
            type=self.type,
            status=self.status,
            progress=self.progress,
            attempt=self.attempt,
            file_id=self.file_id,
            options=self.options,
            result=self.result,
            error=error,
            parent_id=self.parent_id,
            language=self.language,
            output_file_ids=self.output_file_ids,
            steps=[StepState.model_validate(x) for x in self.steps] if self.steps else None,
            file_ids=self.file_ids,
            callback_url=self.callback_url,
            retention_hours=self.retention_hours,
            delete_after_retrieval=self.delete_after_retrieval,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            retrieved_at=self.retrieved_at,
            ttl_deadline=self.ttl_deadline,
        )


@dataclass(frozen=True)
class FileRow:
    """One row of `files`: the public record and where its bytes are."""

    record: FileRecord
    object_key: str

    @property
    def id(self) -> UUID:
        return self.record.id


@dataclass(frozen=True)
class ChildRow:
    """A batch child as its parent's aggregate needs it."""

    id: UUID
    parent_id: UUID
    status: JobStatus
    progress: float


@dataclass(frozen=True)
class NewJob:
    """A job row to insert. Only what differs from a plain pending job needs naming."""

    id: UUID
    owner: str
    type: str
    status: JobStatus = JobStatus.PENDING
    options: dict[str, Any] | None = None
    file_id: UUID | None = None
    file_ids: list[UUID] | None = None
    correlation_id: str | None = None
    idempotency_key: str | None = None
    callback_url: str | None = None
    retention_hours: float | None = None
    delete_after_retrieval: bool = False
    pipeline: list[dict[str, Any]] | None = None
    pipeline_root: UUID | None = None
    pipeline_index: int | None = None
    parent_id: UUID | None = None
    error_code: str | None = None
    error_message: str | None = None
    steps: list[dict[str, Any]] | None = None
    cache_key: str | None = None
    cached_from: UUID | None = None


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    msg_id: str
    payload: bytes
    headers: dict[str, str] | None = None  # besides Nats-Msg-Id: the trace context


@dataclass(frozen=True)
class InputFile:
    """The file a job reads: its id, where its bytes are, and what the cache keys on."""

    id: UUID
    key: str
    filename: str | None
    sha256: str | None


@dataclass(frozen=True)
class Expiration:
    """A finished job whose retention ran out."""

    id: UUID
    owner: str
    attempt: int
    file_id: UUID | None
    file_ids: list[UUID] | None


@dataclass(frozen=True)
class WebhookDue:
    """A webhook delivery claimed for sending."""

    id: int
    job_id: UUID
    url: str
    payload: bytes
    attempts: int
