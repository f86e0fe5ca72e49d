"""Use case: complete a cache hit from its source's outputs, or run it after all.

A hit is created `pending` with no command (submissions.py). It is served in the
background right after its creation; hits a stopped ledger left pending are served
again by the janitor's rounds (`serve_stuck`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from uuid import UUID

from contracts import JobEvent, JobStatus
from services.common.logging import get_logger

from . import step_files
from .adapters.pg import Pool, transaction
from .adapters.pg import cache as pg_cache
from .adapters.pg import files as pg_files
from .adapters.pg import jobs as pg_jobs
from .adapters.pg import outbox as pg_outbox
from .builders import run_job, run_message
from .dispatcher import Dispatcher
from .records import InputFile, JobRow, NewJob
from .result_cache import ResultCache

log = get_logger(__name__)
Ingest = Callable[[list[JobEvent]], Awaitable[int]]


class CacheHits:
    def __init__(
        self, pool: Pool, dispatcher: Dispatcher, cache: ResultCache | None, ingest: Ingest
    ) -> None:
        self._pool = pool
        self._dispatcher = dispatcher
        self._cache = cache
        self._ingest = ingest  # the ledger's own events: stored, folded and published
        self._background: set[asyncio.Task[None]] = set()

    def serve_later(self, job_id: UUID, source: JobRow) -> None:
        """Serve the hit in the background (the submission answers at once)."""
        task = asyncio.ensure_future(self.serve(job_id, source))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def serve(self, job_id: UUID, source: JobRow) -> None:
        if self._cache is not None:
            try:
                await self._ingest(await self._cache.reuse(job_id, source))
                return
            except Exception as exc:
                log.warning(
                    "cached result not reusable, running the job",
                    job_id=str(job_id),
                    error=str(exc),
                )
        with contextlib.suppress(Exception):
            await self.dispatch_instead(job_id)

    async def dispatch_instead(self, job_id: UUID) -> None:
        """Send a cache hit to a worker after all (its source could not be reused)."""
        row = await pg_jobs.by_id(self._pool, job_id)
        if row is None or row.status is not JobStatus.PENDING or row.file_id is None:
            return
        found = await pg_files.get(self._pool, row.file_id, row.owner)
        if found is None:
            return
        job = NewJob(
            id=job_id,
            owner=row.owner,
            type=row.type,
            options=row.options,
            correlation_id=row.correlation_id,
        )
        file = InputFile(found.id, found.object_key, found.record.filename, found.record.sha256)
        named = step_files.named_file_ids(row.options)
        attached = await pg_files.of_owner(self._pool, named, row.owner) if named else {}
        if len(attached) < len(set(named)):
            return  # a named file was deleted meanwhile: as when the input is gone
        message = run_message(run_job(job, file, step_files.attachments_of(row.options, attached)))
        async with transaction(self._pool) as conn:
            await pg_cache.clear_cached_from(conn, job_id)
            ids = await pg_outbox.insert(conn, [message])
        self._dispatcher.kick(ids, [message])

    async def serve_stuck(self) -> None:
        """Cache hits a stopped ledger left `pending`: served again."""
        if self._cache is None:
            return
        for row in await pg_cache.stuck_hits(self._pool, older_than_s=30.0):
            source = await pg_jobs.by_id(self._pool, row.cached_from) if row.cached_from else None
            if source is None or source.status is not JobStatus.COMPLETED:
                await self.dispatch_instead(row.id)
            else:
                await self.serve(row.id, source)
