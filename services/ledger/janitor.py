"""Retention: deletes the media of jobs whose `ttl_deadline` has passed and marks them
`expired` (their event history stays). A job's input upload goes with it once no live
job uses it; uploads no job ever used go after `upload_retention_hours`.

Runs in every ledger replica; deleting twice is harmless (S3 deletes are idempotent
and `expired` folds once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from contracts import JobEvent, JobExpired
from services.common.logging import get_logger
from services.common.periodic import Periodic
from services.common.storage import ObjectStore, output_key

from .metrics import JOBS_EXPIRED, OBJECTS_DELETED
from .repository import Repository

log = get_logger(__name__)
PRODUCER = "job-ledger"


class Janitor:
    def __init__(
        self,
        repo: Repository,
        store: ObjectStore,
        record: Callable[[list[JobEvent]], Awaitable[int]],
        interval_s: float = 60.0,
        upload_retention_hours: float = 24.0,
        after_round: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._repo = repo
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
        expired = 0
        for row in await self._repo.due_expirations(100):
            try:
                await self._expire(row["id"], row["attempt"], row["file_id"], row["file_ids"])
            except Exception as exc:
                log.warning("job not expired yet", job_id=str(row["id"]), error=str(exc))
                continue
            expired += 1
        stale = await self._repo.stale_uploads(self._upload_retention_hours, 100)
        await self._delete_files(stale, "upload")
        return expired

    async def _expire(
        self, job_id: UUID, attempt: int, file_id: UUID | None, file_ids: list[UUID] | None
    ) -> None:
        outputs = await self._repo.output_keys(job_id)
        # Everything under the job's prefix: registered outputs and any partial leftovers.
        removed = await self._store.remove_prefix(output_key(job_id, ""))
        await self._store.remove_many([k for _, k in outputs if k not in removed])
        await self._repo.mark_files_deleted([i for i, _ in outputs])
        OBJECTS_DELETED.labels(kind="output").inc(len(set(removed) | {k for _, k in outputs}))
        await self._record([JobExpired(job_id=job_id, attempt=attempt, producer=PRODUCER)])
        JOBS_EXPIRED.inc()
        inputs = [i for i in [file_id, *(file_ids or [])] if i is not None]
        if inputs:
            await self._delete_files(await self._repo.orphaned_uploads(inputs), "upload")
        log.info("job expired", job_id=str(job_id), objects=len(removed))

    async def _delete_files(self, files: list[tuple[UUID, str]], kind: str) -> None:
        if not files:
            return
        await self._store.remove_many([key for _, key in files])
        await self._repo.mark_files_deleted([i for i, _ in files])
        OBJECTS_DELETED.labels(kind=kind).inc(len(files))
