"""What the result cache reads: completed jobs by cache key, hits not served yet."""

from __future__ import annotations

from uuid import UUID

from ...records import JobRow
from . import Db
from .rows import JOB_COLUMNS, job_row


async def find(db: Db, owner: str, cache_key: str, model: str, min_life_s: float) -> JobRow | None:
    """The newest completed job with this key and model that is not about to expire."""
    row = await db.fetchrow(
        f"""SELECT {JOB_COLUMNS} FROM jobs
            WHERE owner = $1 AND cache_key = $2 AND cache_model = $3
              AND status = 'completed'
              AND (ttl_deadline IS NULL
                   OR ttl_deadline > now() + make_interval(secs => $4))
            ORDER BY finished_at DESC LIMIT 1""",
        owner,
        cache_key,
        model,
        min_life_s,
    )
    return job_row(row) if row else None


async def stuck_hits(db: Db, older_than_s: float) -> list[JobRow]:
    """Cache hits not served yet (a ledger stopped in between): served again."""
    rows = await db.fetch(
        f"""SELECT {JOB_COLUMNS} FROM jobs
            WHERE status = 'pending' AND cached_from IS NOT NULL
              AND created_at <= now() - make_interval(secs => $1)
            LIMIT 100""",
        older_than_s,
    )
    return [job_row(r) for r in rows]


async def clear_cached_from(db: Db, job_id: UUID) -> None:
    await db.execute("UPDATE jobs SET cached_from = NULL WHERE id = $1", job_id)
