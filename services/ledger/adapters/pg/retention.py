"""What retention reads and marks: expired jobs, their outputs, uploads nobody needs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from uuid import UUID

from ...records import Expiration
from . import Db, Pool

# One janitor round at a time across ledger replicas (a session-level advisory lock):
# two rounds would both find a due job and record its `expired` twice.
JANITOR_LOCK = 0x6A65_7473_6A61_6E69  # "jetsjani"


@asynccontextmanager
async def janitor_turn(pool: Pool) -> AsyncIterator[bool]:
    """True while this replica holds the janitor's turn; False if another one does."""
    async with pool.acquire() as conn:
        held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", JANITOR_LOCK))
        try:
            yield held
        finally:
            if held:  # a dead connection took the lock with it
                with contextlib.suppress(Exception):
                    await conn.execute("SELECT pg_advisory_unlock($1)", JANITOR_LOCK)


async def due_expirations(db: Db, limit: int) -> list[Expiration]:
    """Finished jobs whose retention has run out (oldest first)."""
    rows = await db.fetch(
        """SELECT id, owner, attempt, file_id, file_ids FROM jobs
           WHERE ttl_deadline <= now()
             AND status IN ('completed', 'failed', 'cancelled')
           ORDER BY ttl_deadline LIMIT $1""",
        limit,
    )
    return [
        Expiration(r["id"], r["owner"], r["attempt"], r["file_id"], r["file_ids"]) for r in rows
    ]


async def output_keys(db: Db, job_id: UUID) -> list[tuple[UUID, str]]:
    rows = await db.fetch(
        "SELECT id, object_key FROM files WHERE job_id = $1 AND deleted_at IS NULL", job_id
    )
    return [(r["id"], r["object_key"]) for r in rows]


async def orphaned_uploads(db: Db, file_ids: Sequence[UUID]) -> list[tuple[UUID, str]]:
    """Of these uploads, those no live job still needs (every job using one expired)."""
    rows = await db.fetch(
        """SELECT f.id, f.object_key FROM files f
           WHERE f.id = ANY($1::uuid[]) AND f.job_id IS NULL AND f.deleted_at IS NULL
             AND NOT EXISTS (
                 SELECT 1 FROM jobs j
                 WHERE (j.file_id = f.id OR f.id = ANY(j.file_ids))
                   AND j.status <> 'expired')""",
        list(file_ids),
    )
    return [(r["id"], r["object_key"]) for r in rows]


async def stale_uploads(db: Db, max_age_hours: float, limit: int) -> list[tuple[UUID, str]]:
    """Uploads never used by any job, older than the retention for unused files."""
    rows = await db.fetch(
        """SELECT f.id, f.object_key FROM files f
           WHERE f.job_id IS NULL AND f.deleted_at IS NULL
             AND f.created_at <= now() - make_interval(secs => $1)
             AND NOT EXISTS (SELECT 1 FROM jobs j
                             WHERE j.file_id = f.id OR f.id = ANY(j.file_ids))
           ORDER BY f.created_at LIMIT $2""",
        max_age_hours * 3600,
        limit,
    )
    return [(r["id"], r["object_key"]) for r in rows]


async def mark_files_deleted(db: Db, file_ids: Sequence[UUID]) -> None:
    if file_ids:
        await db.execute(
            "UPDATE files SET deleted_at = now() WHERE id = ANY($1::uuid[])", list(file_ids)
        )
