"""Commands: imperative messages asking a service to do something."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import AnyHttpUrl, ConfigDict, Field, model_validator

from .base import Envelope, StrictModel
from .enums import JobType


class StepInput(StrictModel):
    """What a pipeline step runs on: `{"from": "input"}` (the file the pipeline started
    from) or `{"from_step": N}` (step N's primary output; 0 is the top-level job)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
    )

    from_: Literal["input"] | None = Field(default=None, alias="from")
    from_step: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_source(self) -> StepInput:
        if (self.from_ is None) == (self.from_step is None):
            raise ValueError('give exactly one of "from": "input" and "from_step"')
        return self


class PipelineStep(StrictModel):
    """A step run after the previous one completes, on the previous step's primary output
    file unless `input` names another (the pipeline's input, or an earlier step's)."""

    type: JobType
    options: dict[str, Any] = Field(default_factory=dict)
    input: StepInput | None = None


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


class AttachedFile(StrictModel):
    """A file a job reads besides its input (a convert's subtitle files), where it is."""

    file_id: UUID
    key: str
    filename: str | None = None


class RunJob(Envelope):
    """Published by the ledger's dispatcher on `jobs.run.<type>`; consumed by one worker."""

    job_id: UUID
    type: JobType
    file_id: UUID
    input_key: str = Field(description="Object key of the input in the media bucket.")
    input_filename: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    owner: str = "default"
    attachments: list[AttachedFile] = Field(
        default_factory=list, description="The files the options name by id, resolved."
    )
