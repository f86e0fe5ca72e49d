"""/v1/jobs: submit (202 at once), get with ?wait=, list, cancel."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, Query, Response

from contracts import JobStatus, JobType, SubmitJob

from ..job_reads import not_expired
from ..state import Owner, Res
from ..submissions import checked_type, submission_settings, submit_job
from ..views import JobCreate, JobList, JobOut, WebhookList, job_out, job_response
from ..waiting import current_job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", status_code=202, response_model=JobOut)
async def create_job(
    body: JobCreate,
    res: Res,
    owner: Owner,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Submit a job; answers at once with its id (`pending`)."""
    job_type = checked_type(body.type, body)
    submit = SubmitJob(
        job_id=uuid4(),
        type=job_type,
        file_id=body.file_id,
        owner=owner,
        idempotency_key=idempotency_key,
        **submission_settings(body),
    )
    return job_response(await submit_job(res, submit), 202)


@router.get("/{job_id}", response_model=JobOut)
async def get_job(
    job_id: UUID,
    res: Res,
    owner: Owner,
    wait: Annotated[
        float, Query(ge=0, description="Block up to this many seconds until the job is terminal.")
    ] = 0,
) -> Response:
    return job_response(not_expired(await current_job(res, job_id, owner, wait)))


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
    page = await res.ledger.list_jobs(
        owner, status=status, type=type, parent_id=parent_id, limit=limit, cursor=cursor
    )
    return JobList(items=[job_out(j) for j in page.items], next_cursor=page.next_cursor)


@router.get("/{job_id}/webhooks", response_model=WebhookList)
async def job_webhooks(job_id: UUID, res: Res, owner: Owner) -> WebhookList:
    """The job's webhook delivery: status and every attempt (time, HTTP status, error)."""
    return WebhookList(items=await res.ledger.webhooks(job_id, owner))


@router.post("/{job_id}/cancel", status_code=202, response_model=JobOut)
async def cancel_job(job_id: UUID, res: Res, owner: Owner) -> JobOut:
    return job_out(await res.ledger.cancel_job(job_id, owner))
