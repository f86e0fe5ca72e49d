"""Use case: read jobs (one, a page, a job's webhook deliveries)."""

from __future__ import annotations

from contracts import (
    ErrorCode,
    ErrorInfo,
    JobGetRequest,
    JobListRequest,
    JobListResponse,
    JobResponse,
    JobWebhooksRequest,
    JobWebhooksResponse,
)

from .adapters.pg import Pool
from .adapters.pg import jobs as pg_jobs
from .adapters.pg import webhooks as pg_webhooks
from .errors import job_not_found


class Queries:
    def __init__(self, pool: Pool, retrieval_grace_s: float) -> None:
        self._pool = pool
        self._grace_s = retrieval_grace_s

    async def get_job(self, req: JobGetRequest) -> JobResponse:
        if req.mark_retrieved:
            row = await pg_jobs.get_retrieved(self._pool, req.job_id, req.owner, self._grace_s)
        else:
            row = await pg_jobs.get(self._pool, req.job_id, req.owner)
        if row is None:
            return JobResponse(error=job_not_found(req.job_id))
        return JobResponse(job=row.record())

    async def list_jobs(self, req: JobListRequest) -> JobListResponse:
        where = pg_jobs.ListFilter(
            owner=req.owner,
            status=req.status.value if req.status else None,
            type=req.type.value if req.type else None,
            parent_id=req.parent_id,
        )
        try:
            rows, cursor = await pg_jobs.page(self._pool, where, req.limit, req.cursor)
        except (ValueError, UnicodeDecodeError):
            return JobListResponse(
                error=ErrorInfo(code=ErrorCode.INVALID_REQUEST, message="invalid cursor")
            )
        return JobListResponse(items=[r.record() for r in rows], next_cursor=cursor)

    async def webhooks_of(self, req: JobWebhooksRequest) -> JobWebhooksResponse:
        if await pg_jobs.get(self._pool, req.job_id, req.owner) is None:
            return JobWebhooksResponse(error=job_not_found(req.job_id))
        return JobWebhooksResponse(items=await pg_webhooks.of_job(self._pool, req.job_id))
