"""/v1/batches: one parent job, one child job per file, all dispatched at once."""

from __future__ import annotations

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Header, Response

from contracts import JobType, SubmitJob

from ..state import Owner, Res
from ..submissions import checked_type, submission_settings, submit_job
from ..views import BatchCreate, JobOut, job_response

router = APIRouter(prefix="/v1/batches", tags=["jobs"])


@router.post("", status_code=202, response_model=JobOut)
async def create_batch(
    body: BatchCreate,
    res: Res,
    owner: Owner,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Submit the same job for many files. The answer is the parent job (type `batch`):
    `processing` while children run, then `completed` with counts and child ids;
    `GET /v1/jobs?parent_id=<id>` lists the children."""
    child_type = checked_type(body.type, body)
    settings = submission_settings(body)
    settings["options"] = {"child_type": child_type.value, "child_options": body.options}
    submit = SubmitJob(
        job_id=uuid4(),
        type=JobType.BATCH,
        file_ids=body.file_ids,
        owner=owner,
        idempotency_key=idempotency_key,
        **settings,
    )
    return job_response(await submit_job(res, submit), 202)
