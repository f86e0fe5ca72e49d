"""Use case: cancel a job and whatever under it has not finished.

A batch's children and a pipeline's running step go with it. Running workers see
`JobCancelled` on the job's subject and stop; a pending job is skipped when a worker
takes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from contracts import ErrorCode, ErrorInfo, JobCancelled, JobEvent, JobResponse

from .adapters.pg import Pool
from .adapters.pg import jobs as pg_jobs
from .builders import PRODUCER
from .errors import job_not_found

Ingest = Callable[[list[JobEvent]], Awaitable[int]]


class Cancel:
    def __init__(self, pool: Pool, ingest: Ingest) -> None:
        self._pool = pool
        self._ingest = ingest  # the ledger's own events: stored, folded and published

    async def cancel(self, job_id: UUID, owner: str, reason: str | None = None) -> JobResponse:
        row = await pg_jobs.get(self._pool, job_id, owner)
        if row is None:
            return JobResponse(error=job_not_found(job_id))
        if row.status.is_terminal:
            return JobResponse(
                job=row.record(),
                error=ErrorInfo(
                    code=ErrorCode.JOB_FINISHED, message=f"job is already {row.status.value}"
                ),
            )
        targets = [(job_id, row.attempt), *await pg_jobs.live_descendants(self._pool, job_id)]
        await self._ingest(
            [
                JobCancelled(
                    job_id=target,
                    attempt=attempt,
                    reason=reason or "cancelled by client",
                    producer=PRODUCER,
                )
                for target, attempt in targets
            ]
        )
        after = await pg_jobs.get(self._pool, job_id, owner)
        return (
            JobResponse(job=after.record()) if after else JobResponse(error=job_not_found(job_id))
        )
