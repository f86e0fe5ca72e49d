"""Events: past-tense facts about a job, published on `jobs.events.<job_id>`.

`JobEvent` is the discriminated union (on `kind`) every consumer parses.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import Field, TypeAdapter

from .base import Envelope
from .enums import JobType
from .records import ErrorInfo, OutputFile
from .results import JobResult


class JobEventBase(Envelope):
    job_id: UUID
    attempt: int = Field(default=1, ge=1)
    producer: str | None = Field(default=None, description="Service that emitted it.")


class JobQueued(JobEventBase):
    kind: Literal["queued"] = "queued"
    type: JobType


class JobStarted(JobEventBase):
    kind: Literal["started"] = "started"
    worker: str | None = None


class JobProgressed(JobEventBase):
    kind: Literal["progressed"] = "progressed"
    progress: float = Field(ge=0.0, le=1.0)
    message: str | None = None


class JobRequeued(JobEventBase):
    """A transient failure: the job goes back to `pending` for attempt `attempt`."""

    kind: Literal["requeued"] = "requeued"
    error: ErrorInfo


class JobCompleted(JobEventBase):
    kind: Literal["completed"] = "completed"
    result: JobResult
    outputs: list[OutputFile] = Field(default_factory=list)
    language: str | None = None
    model: str | None = Field(
        default=None, description="What produced the result (model, tool version): cache key."
    )


class JobFailed(JobEventBase):
    kind: Literal["failed"] = "failed"
    error: ErrorInfo
    result: JobResult | None = Field(default=None, description="A failed batch's counts.")


class JobCancelled(JobEventBase):
    kind: Literal["cancelled"] = "cancelled"
    reason: str | None = None


class JobExpired(JobEventBase):
    kind: Literal["expired"] = "expired"


JobEvent = Annotated[
    JobQueued
    | JobStarted
    | JobProgressed
    | JobRequeued
    | JobCompleted
    | JobFailed
    | JobCancelled
    | JobExpired,
    Field(discriminator="kind"),
]

JOB_EVENT_ADAPTER: TypeAdapter[JobEvent] = TypeAdapter(JobEvent)


TERMINAL_KINDS = frozenset({"completed", "failed", "cancelled", "expired"})
"""Event kinds after which a job never runs again."""

_OUTCOME_NAMESPACE = UUID("6f1b8f0e-3a51-4c55-9c0e-2f4d7f3b8a11")


def outcome_event_id(job_id: UUID) -> UUID:
    """The `event_id` of the one outcome (`completed` or `failed`) a worker reports for a
    job, the same on every attempt and every replica.

    It is also the event's `Nats-Msg-Id`, so a second outcome is dropped by JetStream
    (within the streams' duplicate window) and by the ledger (unique `event_id`): a
    publish whose result was unknown can be repeated, and a job re-run by mistake still
    ends once."""
    return uuid5(_OUTCOME_NAMESPACE, str(job_id))


def parse_event(data: bytes | str) -> JobEvent:
    """Parse any job event from its JSON form (raises pydantic.ValidationError)."""
    return JOB_EVENT_ADAPTER.validate_json(data)
