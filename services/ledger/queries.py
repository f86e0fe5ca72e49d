"""Use case: read jobs (one, a page, a job's webhook deliveries, the queue by type)."""

from __future__ import annotations

from contracts import (
    ErrorCode,
    ErrorInfo,
    JobGetRequest,
    JobListRequest,
    JobListResponse,
    JobRecord,
    JobResponse,
    JobWebhooksRequest,
    JobWebhooksResponse,
    QueueStatsRequest,
    QueueStatsResponse,
)

from .adapters.pg import Pool
from .adapters.pg import jobs as pg_jobs
from .adapters.pg import queue_stats as pg_queue_stats
from .adapters.pg import webhooks as pg_webhooks
from .adapters.pg.jobs import encode_cursor
from .errors import job_not_found


class Queries:
    def __init__(self, pool: Pool, retrieval_grace_s: float, max_reply_bytes: int) -> None:
        self._pool = pool
        self._grace_s = retrieval_grace_s
        self._max_reply_bytes = max_reply_bytes

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
        return fit_page([r.record() for r in rows], cursor, self._max_reply_bytes)

    async def webhooks_of(self, req: JobWebhooksRequest) -> JobWebhooksResponse:
        if await pg_jobs.get(self._pool, req.job_id, req.owner) is None:
            return JobWebhooksResponse(error=job_not_found(req.job_id))
        return JobWebhooksResponse(items=await pg_webhooks.of_job(self._pool, req.job_id))

    async def queue_stats(self, req: QueueStatsRequest) -> QueueStatsResponse:
        """Every tenant's jobs: the gateway answers it to operator tenants only."""
        async with self._pool.acquire() as db:
            types = await pg_queue_stats.by_type(db, req.window_s)
            dead = await pg_queue_stats.dead_letter_count(db)
        return QueueStatsResponse(types=types, dead_letters=dead)


def fit_page(items: list[JobRecord], cursor: str | None, max_bytes: int) -> JobListResponse:
    """The page, cut short where its reply would not fit one NATS message: the cursor
    then continues after the last job it holds (at least one job per page)."""
    budget = max_bytes - 256  # the reply's own fields
    kept: list[JobRecord] = []
    for item in items:
        budget -= len(item.model_dump_json().encode()) + 1
        if budget < 0 and kept:
            last = kept[-1]
            return JobListResponse(items=kept, next_cursor=encode_cursor(last.created_at, last.id))
        kept.append(item)
    return JobListResponse(items=kept, next_cursor=cursor)
