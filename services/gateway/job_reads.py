"""Reading a job from the ledger as a client sees it."""

from __future__ import annotations

import json
from uuid import UUID

from contracts import ErrorCode, JobRecord, JobStatus
from services.common.logging import get_logger

from .adapters.ledger import LedgerReplyError
from .errors import ApiError
from .state import Resources

log = get_logger(__name__)
CACHE_FIELDS = ("cached", "cached_from", "file_id")  # the job's own, not its source's


async def find_job(res: Resources, job_id: UUID, owner: str) -> JobRecord:
    """The job as it stands (no retrieval recorded); 404 if the owner has no such job."""
    return await res.ledger.get_job(job_id, owner)


async def fetch_job(res: Resources, job_id: UUID, owner: str) -> JobRecord:
    """The job for a client reading its result: the read is recorded (retention)."""
    job = await res.ledger.get_job(job_id, owner, mark_retrieved=True)
    return await with_download_url(res, await with_full_result(res, job, owner), owner)


async def with_full_result(res: Resources, job: JobRecord, owner: str) -> JobRecord:
    """A result the job's events carry by reference (`full_result`: too large for a
    message) read back whole, up to `result_inline_max_bytes`; above that, or if it
    cannot be read, the summary with a presigned `full_result.url`."""
    result = job.result or {}
    ref = result.get("full_result")
    if not isinstance(ref, dict) or not isinstance(ref.get("object_key"), str):
        return job
    key = ref["object_key"]
    if not await _readable_by(res, key, job, owner):
        log.warning("full result outside the owner's jobs ignored", job_id=str(job.id))
        return job
    if int(ref.get("size") or 0) <= res.settings.result_inline_max_bytes:
        try:
            whole = json.loads(await res.store.get_bytes(key))
        except Exception as exc:  # retention removed it, or S3 is away: the summary stands
            log.warning("full result not read", job_id=str(job.id), error=str(exc))
        else:
            if isinstance(whole, dict):
                # As stored, with what the job's own summary knows better (a cache hit's).
                merged = {**whole, **{k: result[k] for k in CACHE_FIELDS if k in result}}
                return job.model_copy(update={"result": {**merged, "full_result": None}})
    linked = {**ref, "url": res.store.presign_get(key, f"{job.id}-result.json")}
    return job.model_copy(update={"result": {**result, "full_result": linked}})


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


async def _readable_by(res: Resources, key: str, job: JobRecord, owner: str) -> bool:
    """A result object under `jobs/<id>/` of this job, or of another job of the same
    owner (a pipeline's step, a cached job): never an object the owner cannot see."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "jobs":
        return False
    if parts[1] == str(job.id):
        return True
    try:
        await res.ledger.get_job(UUID(parts[1]), owner)
    except (ValueError, ApiError):
        return False
    return True
