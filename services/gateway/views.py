"""Public REST shapes (add fields freely, rename none) built from ledger records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import Response
from pydantic import AnyHttpUrl, BaseModel, Field

from contracts import (
    ErrorInfo,
    FileRecord,
    JobRecord,
    JobStatus,
    JobType,
    PipelineStep,
    StepState,
    WebhookDelivery,
)
from services.common.adapters.s3 import ObjectStore

# The job types a client may submit (a batch is made by POST /v1/batches). Documented as
# the enum of `type`, but validated by submissions.py: an unknown type stays 422
# `unknown_job_type` (not a generic validation error).
SUBMITTABLE = [t.value for t in JobType if t is not JobType.BATCH]
SUBMITTABLE_SCHEMA: dict[str, Any] = {"enum": SUBMITTABLE}


class FileOut(BaseModel):
    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str | None
    duration_s: float | None
    created_at: datetime
    url: str | None = Field(description="Presigned download URL (short expiry).")
    job_id: UUID | None = None


class JobOut(BaseModel):
    id: UUID
    type: str
    status: JobStatus
    progress: float
    attempt: int
    file_id: UUID | None
    options: dict[str, Any]
    result: dict[str, Any] | None
    error: ErrorInfo | None
    parent_id: UUID | None
    language: str | None = None
    output_file_ids: list[UUID] = Field(default_factory=list)
    steps: list[StepState] | None = None
    file_ids: list[UUID] | None = None
    callback_url: str | None = None
    retention_hours: float | None = None
    delete_after_retrieval: bool = False
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    retrieved_at: datetime | None
    ttl_deadline: datetime | None


class JobList(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


class JobSettings(BaseModel):
    """What every submission may add: steps, webhook, retention, cache."""

    options: dict[str, Any] = Field(default_factory=dict)
    then: list[PipelineStep] = Field(default_factory=list)
    callback_url: AnyHttpUrl | None = Field(
        default=None, description="POSTed {job_id, status, type} once the job is terminal."
    )
    retention_hours: float | None = Field(
        default=None, gt=0, le=24 * 365, description="Media and outputs kept this long (24)."
    )
    delete_after_retrieval: bool = Field(
        default=False, description="Delete media and outputs shortly after the first read."
    )
    cache: bool = Field(
        default=True, description="false: run even if an identical job completed before."
    )


class JobCreate(JobSettings):
    type: str = Field(description="The job type.", json_schema_extra=SUBMITTABLE_SCHEMA)
    file_id: UUID


class BatchCreate(JobSettings):
    type: str = Field(
        description="The job type every file gets.", json_schema_extra=SUBMITTABLE_SCHEMA
    )
    file_ids: list[UUID] = Field(min_length=1, description="One child job per file.")


class WebhookList(BaseModel):
    items: list[WebhookDelivery]


class TranscribeAccepted(BaseModel):
    job_id: UUID
    status: JobStatus
    file_id: UUID


class TranscribeStatus(BaseModel):
    job_id: UUID
    status: JobStatus
    language: str | None
    result: dict[str, Any] | None
    error: ErrorInfo | None


class TypeQueueOut(BaseModel):
    type: str
    waiting: int = Field(description="Submitted, not started (`pending`).")
    running: int = Field(description="A worker is on it (`processing`).")
    failed_recently: int = Field(description="Failed in the last hour.")
    completed_recently: int = Field(description="Completed in the last hour.")
    oldest_waiting_s: float | None = Field(description="Age of the oldest waiting job.")
    stream_undelivered: int | None = Field(
        default=None, description="The worker consumer's messages not yet handed out."
    )
    stream_unacked: int | None = Field(
        default=None, description="Handed out to a replica and not yet acknowledged."
    )


class WorkerPoolOut(BaseModel):
    type: str
    replicas: int = Field(description="Replicas whose heartbeat is current (< 60 s).")
    models: list[str] = Field(default_factory=list, description="What they run.")
    versions: list[str] = Field(default_factory=list, description="jetscribe releases.")
    services: list[str] = Field(default_factory=list)


class QueueOut(BaseModel):
    at: datetime
    types: list[TypeQueueOut]
    pools: list[WorkerPoolOut]
    dead_letters: int
    nats_figures: bool = Field(description="false: NATS did not answer; stream figures absent.")


class JobTypeOut(BaseModel):
    type: str
    input: Literal["media", "subtitles", "text"] = Field(
        description="What `file_id` must be: audio/video, an SRT/VTT file, or either of "
        "those or a transcript (summarize)."
    )
    description: str
    options_schema: dict[str, Any] = Field(description="JSON Schema of `options`.")


class JobTypeList(BaseModel):
    items: list[JobTypeOut]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, bool] = Field(description="nats, ledger, s3: whether each answers.")


def file_out(record: FileRecord, key: str | None, store: ObjectStore) -> FileOut:
    url = store.presign_get(key, record.filename) if key else None
    return FileOut(**record.model_dump(exclude={"url"}), url=url)


def job_out(job: JobRecord) -> JobOut:
    return JobOut(**job.model_dump())


def job_response(job: JobRecord, status_code: int = 200) -> Response:
    """A Job as JSON, serialised once (the hot path skips response-model re-validation)."""
    return Response(job.model_dump_json(), status_code=status_code, media_type="application/json")
