"""/v1/jobs: submit (202 at once), get with ?wait=, list, cancel."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, Query, Response

from contracts import (
    ErrorCode,
    InvalidOptionsError,
    JobListRequest,
    JobRecord,
    JobStatus,
    JobType,
    SubmitJob,
    parse_options,
    streams,
    subjects,
)

from ..errors import ApiError
from ..metrics import JOBS_SUBMITTED
from ..state import Owner, Res, Resources
from ..views import (
    JobCreate,
    JobList,
    JobOut,
    JobSettings,
    WebhookList,
    job_out,
    job_response,
)

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
TERMINAL_KINDS = {"completed", "failed", "cancelled", "expired"}
SUBMITTABLE = [t.value for t in JobType if t is not JobType.BATCH]


def job_type_of(raw: str) -> JobType:
    if raw not in SUBMITTABLE:
        raise ApiError(
            422,
            ErrorCode.UNKNOWN_JOB_TYPE,
            f"unknown job type {raw!r}; expected one of {', '.join(SUBMITTABLE)}",
        )
    return JobType(raw)


def validate_options(job_type: JobType, options: dict[str, Any], where: str = "options") -> None:
    try:
        parse_options(job_type, options)
    except InvalidOptionsError as exc:
        raise ApiError(
            422, ErrorCode.INVALID_OPTIONS, str(exc).replace("options", where, 1)
        ) from exc


async def submit_job(res: Resources, submit: SubmitJob) -> JobRecord:
    reply = await res.ledger.create_job(submit)
    if reply.error:
        raise ApiError.from_info(reply.error)
    assert reply.job is not None
    JOBS_SUBMITTED.labels(type=submit.type.value).inc()
    return reply.job


@router.post("", status_code=202, response_model=JobOut)
async def create_job(
    body: JobCreate,
    res: Res,
    owner: Owner,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Submit a job; answers at once with its id (`pending`)."""
    job_type = job_type_of(body.type)
    validate_options(job_type, body.options)
    for i, step in enumerate(body.then):
        validate_options(step.type, step.options, f"then[{i}].options")
    submit = SubmitJob(
        job_id=uuid4(),
        type=job_type,
        file_id=body.file_id,
        owner=owner,
        idempotency_key=idempotency_key,
        **submission_settings(body),
    )
    return job_response(await submit_job(res, submit), 202)


def submission_settings(body: JobSettings) -> dict[str, Any]:
    """The SubmitJob fields every kind of submission shares."""
    return {
        "options": body.options,
        "then": body.then,
        "callback_url": body.callback_url,
        "retention_hours": body.retention_hours,
        "delete_after_retrieval": body.delete_after_retrieval,
        "cache": body.cache,
    }


async def find_job(res: Resources, job_id: UUID, owner: str) -> JobRecord:
    """The job as it stands (no retrieval recorded)."""
    reply = await res.ledger.get_job(job_id, owner)
    if reply.error or reply.job is None:
        raise ApiError(404, ErrorCode.JOB_NOT_FOUND, f"job {job_id} not found")
    return reply.job


async def fetch_job(res: Resources, job_id: UUID, owner: str) -> JobRecord:
    """The job for a client reading its result: the read is recorded (retention), and a
    job whose retention ran out answers 410."""
    reply = await res.ledger.get_job(job_id, owner, mark_retrieved=True)
    if reply.error or reply.job is None:
        raise ApiError(404, ErrorCode.JOB_NOT_FOUND, f"job {job_id} not found")
    return await with_download_url(res, reply.job, owner)


def not_expired(job: JobRecord) -> JobRecord:
    if job.status is JobStatus.EXPIRED:
        raise ApiError(
            410,
            ErrorCode.EXPIRED,
            f"job {job.id} expired at {job.ttl_deadline}: its media and result were deleted "
            f"(its events remain at /v1/jobs/{job.id}/events)",
        )
    return job


async def with_download_url(res: Resources, job: JobRecord, owner: str) -> JobRecord:
    """Results that name an output file get a fresh presigned `url` at every read."""
    result = job.result
    if not result or "url" not in result or not result.get("file_id"):
        return job
    reply = await res.ledger.get_file(UUID(str(result["file_id"])), owner)
    if reply.file is None or reply.object_key is None:
        return job
    url = res.store.presign_get(reply.object_key, reply.file.filename)
    return job.model_copy(update={"result": {**result, "url": url}})


async def wait_for_job(res: Resources, job_id: UUID, owner: str, wait_s: float) -> JobRecord:
    """The job once terminal, or as it stands when `wait_s` runs out.

    Driven by the job's events (a core subscription to `jobs.events.<id>`), not by
    polling. We subscribe first, then read the job; an event published just before we
    subscribed is caught by looking at the last event JetStream holds for the job.
    """
    sub = await res.nc.subscribe(subjects.events_subject(job_id))
    try:
        job = await fetch_job(res, job_id, owner)
        last = await _last_event_kind(res, job_id)
        if not job.status.is_terminal and last in TERMINAL_KINDS:
            job = await settled(res, job_id, owner, job, fetch_job)
        deadline = time.monotonic() + wait_s
        while not job.status.is_terminal:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                msg = await sub.next_msg(timeout=remaining)
            except TimeoutError:
                break
            if _kind(msg.data) in TERMINAL_KINDS:
                job = await settled(res, job_id, owner, job, fetch_job)
        return job
    finally:
        await sub.unsubscribe()


async def settled(
    res: Resources,
    job_id: UUID,
    owner: str,
    before: JobRecord,
    read: Callable[[Resources, UUID, str], Awaitable[JobRecord]],
    timeout_s: float = 5.0,
) -> JobRecord:
    """The job once the ledger has folded a terminal-looking event it was just sent.

    The ledger folds an event a moment after it is published. Not every such event
    ends the job: a pipeline's first step completing on the top-level job starts the
    next step (the job stays `processing`, its first step turns `completed`).
    """
    deadline = time.monotonic() + timeout_s
    job = before
    while time.monotonic() < deadline:
        job = await read(res, job_id, owner)
        first_step_done = job.steps is not None and job.steps[0].status is JobStatus.COMPLETED
        if job.status.is_terminal or (first_step_done and job != before):
            break
        await asyncio.sleep(0.02)
    return job


async def _last_event_kind(res: Resources, job_id: UUID) -> str | None:
    try:
        last = await res.nc.jetstream().get_last_msg(
            streams.EVENTS_STREAM, subjects.events_subject(job_id)
        )
    except Exception:  # none yet, or JetStream unavailable: the subscription still works
        return None
    return _kind(last.data or b"")


def _kind(data: bytes) -> str | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value.get("kind") if isinstance(value, dict) else None


@router.get("/{job_id}", response_model=JobOut)
async def get_job(
    job_id: UUID,
    res: Res,
    owner: Owner,
    wait: Annotated[
        float, Query(ge=0, description="Block up to this many seconds until the job is terminal.")
    ] = 0,
) -> Response:
    if wait > 0:
        job = await wait_for_job(res, job_id, owner, min(wait, res.settings.max_wait_s))
    else:
        job = await fetch_job(res, job_id, owner)
    return job_response(not_expired(job))


@router.get("", response_model=JobList)
async def list_jobs(
    res: Res,
    owner: Owner,
    status: JobStatus | None = None,
    type: Annotated[JobType | None, Query()] = None,
    parent_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> JobList:
    reply = await res.ledger.list_jobs(
        JobListRequest(
            owner=owner, status=status, type=type, parent_id=parent_id, limit=limit, cursor=cursor
        )
    )
    if reply.error:
        raise ApiError.from_info(reply.error)
    return JobList(items=[job_out(j) for j in reply.items], next_cursor=reply.next_cursor)


@router.get("/{job_id}/webhooks", response_model=WebhookList)
async def job_webhooks(job_id: UUID, res: Res, owner: Owner) -> WebhookList:
    """The job's webhook delivery: status and every attempt (time, HTTP status, error)."""
    reply = await res.ledger.webhooks(job_id, owner)
    if reply.error:
        raise ApiError.from_info(reply.error)
    return WebhookList(items=reply.items)


@router.post("/{job_id}/cancel", status_code=202, response_model=JobOut)
async def cancel_job(job_id: UUID, res: Res, owner: Owner) -> JobOut:
    reply = await res.ledger.cancel_job(job_id, owner)
    if reply.error:
        raise ApiError.from_info(reply.error)
    assert reply.job is not None
    return job_out(reply.job)
