"""Commands: imperative messages asking a service to do something."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import AnyHttpUrl, Field

from .base import Envelope, StrictModel
from .enums import JobType


class PipelineStep(StrictModel):
    """A step run after the previous one completes, on its primary output file."""

    type: JobType
    options: dict[str, Any] = Field(default_factory=dict)


class SubmitJob(Envelope):
    """Published on `jobs.submit` by any upstream system, or sent by the gateway.

    `job_id` is chosen by the submitter so it can follow `jobs.events.<job_id>` at once.
    """

    job_id: UUID
    type: JobType
    file_id: UUID | None = None
    file_ids: list[UUID] | None = Field(default=None, description="Batches only.")
    options: dict[str, Any] = Field(default_factory=dict)
    then: list[PipelineStep] = Field(default_factory=list)
    callback_url: AnyHttpUrl | None = None
    retention_hours: float | None = Field(default=None, gt=0, le=24 * 365)
    delete_after_retrieval: bool = False
    owner: str = "default"
    idempotency_key: str | None = Field(default=None, max_length=200)
    cache: bool = Field(
        default=True,
        description="Reuse the outputs of a completed job with the same input, type, options "
        "and model; false always runs the job.",
    )


class RunJob(Envelope):
    """Published by the ledger's dispatcher on `jobs.run.<type>`; consumed by one worker."""

    job_id: UUID
    type: JobType
    file_id: UUID
    input_key: str = Field(description="Object key of the input in the media bucket.")
    input_filename: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    owner: str = "default"
