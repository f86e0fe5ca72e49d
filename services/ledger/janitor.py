"""Retention: deletes the media of jobs whose `ttl_deadline` has passed and marks them
`expired` (their event history stays). A job's input upload goes with it once no live
job uses it; uploads no job ever used go after `upload_retention_hours`.

Runs in every ledger replica, one round at a time across them (an advisory lock in
PostgreSQL), so each job's `expired` is recorded once; a round goes on while it finds a
full page of due jobs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from contracts import JobEvent, JobExpired
from services.common.adapters.s3 import ObjectStore, output_key
from services.common.logging import get_logger
from services.common.periodic import Periodic

from .adapters.pg import Pool
from .adapters.pg import retention as pg_retention
from .builders import PRODUCER
from .metrics import JOBS_EXPIRED, OBJECTS_DELETED
from .records import Expiration

log = get_logger(__name__)
PAGE = 100


class Janitor:
    def __init__(
        self,
        pool: Pool,
        store: ObjectStore,
        record: Callable[[list[JobEvent]], Awaitable[int]],
        interval_s: float = 60.0,
        upload_retention_hours: float = 24.0,
        after_round: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._pool = pool
        self._store = store
        self._record = record
        self._upload_retention_hours = upload_retention_hours
        self._after_round = after_round
        self._loop = Periodic("janitor", self._round, interval_s)

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        await self.run_once()
        if self._after_round is not None:
            await self._after_round()

    async def run_once(self) -> int:
        async with pg_retention.janitor_turn(self._pool) as mine:
            if not mine:  # another replica's round is on
                return 0
            return await self._expire_due()

    async def _expire_due(self) -> int:
        expired = 0
        seen: set[UUID] = set()
        while True:
            page = await pg_retention.due_expirations(self._pool, PAGE)
            if seen.intersection(d.id for d in page):  # not folded to expired: next round
                break
            seen.update(d.id for d in page)
            failed = 0
            for due in page:
                try:
                    await self._expire(due)
                except Exception as exc:
                    log.warning("job not expired yet", job_id=str(due.id), error=str(exc))
                    failed += 1
                    continue
                expired += 1
            if len(page) < PAGE or failed:  # caught up, or stuck on jobs: next round
                break
        stale = await pg_retention.stale_uploads(self._pool, self._upload_retention_hours, 100)
        await self._delete_files(stale, "upload")
        return expired

    async def _expire(self, due: Expiration) -> None:
        job_id = due.id
        outputs = await pg_retention.output_keys(self._pool, job_id)
        # Everything under the job's prefix: registered outputs and any partial leftovers.
        removed = await self._store.remove_prefix(output_key(job_id, ""))
        await self._store.remove_many([k for _, k in outputs if k not in removed])
        await pg_retention.mark_files_deleted(self._pool, [i for i, _ in outputs])
        OBJECTS_DELETED.labels(kind="output").inc(len(set(removed) | {k for _, k in outputs}))
        await self._record([JobExpired(job_id=job_id, attempt=due.attempt, producer=PRODUCER)])
        JOBS_EXPIRED.inc()
        inputs = [i for i in [due.file_id, *(due.file_ids or [])] if i is not None]
        if inputs:
            orphans = await pg_retention.orphaned_uploads(self._pool, inputs)
            await self._delete_files(orphans, "upload")
        log.info("job expired", job_id=str(job_id), objects=len(removed))

    async def _delete_files(self, files: list[tuple[UUID, str]], kind: str) -> None:
        if not files:
            return
        await self._store.remove_many([key for _, key in files])
        await pg_retention.mark_files_deleted(self._pool, [i for i, _ in files])
        OBJECTS_DELETED.labels(kind=kind).inc(len(files))
