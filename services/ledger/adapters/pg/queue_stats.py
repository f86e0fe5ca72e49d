"""The queue at a glance: live jobs and the recent outcomes, per job type."""

from __future__ import annotations

from contracts import TypeQueue

from . import Db


async def by_type(db: Db, window_s: int) -> list[TypeQueue]:
    rows = await db.fetch(
        """WITH live AS (
               SELECT type,
                      count(*) FILTER (WHERE status = 'pending') AS waiting,
                      count(*) FILTER (WHERE status = 'processing') AS running,
                      extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending'))
                          AS oldest_waiting_s
               FROM jobs WHERE status IN ('pending', 'processing') GROUP BY type),
           recent AS (
               SELECT type,
                      count(*) FILTER (WHERE status = 'failed') AS failed_recently,
                      count(*) FILTER (WHERE status = 'completed') AS completed_recently
               FROM jobs
               WHERE status IN ('completed', 'failed')
                 AND finished_at > now() - make_interval(secs => $1)
               GROUP BY type)
           SELECT type,
                  coalesce(live.waiting, 0) AS waiting,
                  coalesce(live.running, 0) AS running,
                  coalesce(recent.failed_recently, 0) AS failed_recently,
                  coalesce(recent.completed_recently, 0) AS completed_recently,
                  live.oldest_waiting_s::float8 AS oldest_waiting_s
           FROM live FULL JOIN recent USING (type)
           ORDER BY type""",
        float(window_s),
    )
    return [TypeQueue.model_validate(dict(r)) for r in rows]


async def dead_letter_count(db: Db) -> int:
    return int(await db.fetchval("SELECT count(*) FROM dead_letters"))
