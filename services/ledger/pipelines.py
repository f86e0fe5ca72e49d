"""Pipelines (`then`): what happens to a chain of steps when one of them moves. Pure.

The top-level job J runs step 0 itself. When a step completes and steps remain, the
ledger creates the next step as its own job (pipeline_root = J) on the previous step's
primary output file (or the file its `input` names: see step_files.py), instead of
completing J. J completes with the last step's result;
any failed or cancelled step ends J the same way, and later steps never run. J's
`steps` shows every step with its state and job id; its progress is the share of the
chain done.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts import AttachedFile, JobCompleted, JobEvent, JobStatus

from . import step_files
from .fold import JobState
from .records import InputFile


@dataclass(frozen=True)
class NextStep:
    """A step job to create: the next one in J's chain."""

    job_id: UUID
    root_id: UUID
    index: int
    type: str
    options: dict[str, Any]
    file: InputFile
    attachments: list[AttachedFile]
    remaining: list[dict[str, Any]]


def step_job_id(root_id: UUID, index: int) -> UUID:
    """Deterministic: a redelivered completion creates the same next job, not a second."""
    return uuid5(NAMESPACE_URL, f"jetscribe:pipeline:{root_id}:{index}")


def initial_steps(
    root_id: UUID, first_type: str, then: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    steps = [{"index": 0, "type": first_type, "status": "pending", "job_id": str(root_id)}]
    steps += [
        {"index": i + 1, "type": s["type"], "status": "pending", "job_id": None}
        for i, s in enumerate(then)
    ]
    return steps


def mark_step(
    steps: list[dict[str, Any]], index: int, status: str, job_id: UUID | None = None
) -> list[dict[str, Any]]:
    out = [dict(s) for s in steps]
    if out[index]["status"] != JobStatus.COMPLETED.value:  # a finished step stays so
        out[index]["status"] = status
    if job_id is not None:
        out[index]["job_id"] = str(job_id)
    return out


def next_step(
    root_id: UUID, index: int, remaining: list[dict[str, Any]], completed: JobCompleted
) -> NextStep | None:
    """The job to create after step `index` completed, or None if it was the last."""
    if not remaining:
        return None
    primary = completed.outputs[0] if completed.outputs else None
    if primary is not None:
        remaining = step_files.after_completion(remaining, index, primary)
    head, *rest = remaining
    file = step_files.source_of(head, primary)
    if file is None:
        return None  # nothing to run on (submission checks make this unreachable)
    return NextStep(
        job_id=step_job_id(root_id, index + 1),
        root_id=root_id,
        index=index + 1,
        type=head["type"],
        options=head.get("options", {}),
        file=file,
        attachments=step_files.attached(head),
        remaining=rest,
    )


def root_after_step(
    root: JobState,
    steps: list[dict[str, Any]],
    index: int,
    step: JobState,
    event: JobEvent,
    at: datetime,
) -> JobState:
    """J's state after step `index` (a job of its chain other than J) moved to `step`."""
    if root.terminal:
        return root  # cancelled or failed already: a late step changes nothing
    total = len(steps)
    if step.status is JobStatus.COMPLETED and index == total - 1:
        return replace(
            root,
            status=JobStatus.COMPLETED,
            progress=1.0,
            result=step.result,
            output_file_ids=step.output_file_ids,
            language=step.language or root.language,
            finished_at=at,
            ttl_deadline=step.ttl_deadline,
            error_code=None,
            error_message=None,
        )
    if step.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        return replace(
            root,
            status=step.status,
            finished_at=at,
            ttl_deadline=step.ttl_deadline,
            error_code=step.error_code,
            error_message=f"step {index} ({steps[index]['type']}): {step.error_message}",
        )
    done = index + (step.progress if step.status is not JobStatus.COMPLETED else 1.0)
    return replace(root, status=JobStatus.PROCESSING, progress=max(root.progress, done / total))
