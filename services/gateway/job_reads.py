"""Reading a job from the ledger as a client sees it."""

from __future__ import annotations

from uuid import UUID

from contracts import ErrorCode, JobRecord, JobStatus

from .adapters.ledger import LedgerReplyError
from .errors import ApiError
from .state import Resources


async def find_job(res: Resources, job_id: UUID, owner: str) -> JobRecord:
    """The job as it stands (no retrieval recorded); 404 if the owner has no such job."""
    return await res.ledger.get_job(job_id, owner)


async def fetch_job(res: Resources, job_id: UUID, owner: str) -> JobRecord:
    """The job for a client reading its result: the read is recorded (retention)."""
    job = await res.ledger.get_job(job_id, owner, mark_retrieved=True)
    return await with_download_url(res, job, owner)


def not_expired(job: JobRecord) -> JobRecord:
    """The job, or 410 if its retention ran out."""
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
    try:
        stored = await res.ledger.get_file(UUID(str(result["file_id"])), owner)
    except LedgerReplyError:  # the file is gone: the result keeps the url it has
        return job
    url = res.store.presign_get(stored.object_key, stored.record.filename)
    return job.model_copy(update={"result": {**result, "url": url}})
