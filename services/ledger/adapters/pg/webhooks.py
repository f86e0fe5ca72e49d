"""`webhook_deliveries` and `webhook_attempts`: one delivery per job, every attempt kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from contracts import WebhookAttempt, WebhookDelivery

from ...records import WebhookDue
from . import Db, Pool, transaction


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: float


async def enqueue(db: Db, deliveries: Sequence[tuple[UUID, str, bytes]]) -> None:
    """(job_id, url, body) rows; a job has one webhook, so a repeat changes nothing."""
    if deliveries:
        await db.execute(
            """INSERT INTO webhook_deliveries (job_id, url, payload)
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])
               ON CONFLICT (job_id) DO NOTHING""",
            [d[0] for d in deliveries],
            [d[1] for d in deliveries],
            [d[2] for d in deliveries],
        )


async def claim(db: Db, limit: int, lease_s: float) -> list[WebhookDue]:
    """Take due deliveries for `lease_s` (another replica skips them meanwhile)."""
    rows = await db.fetch(
        """UPDATE webhook_deliveries
           SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE id IN (SELECT id FROM webhook_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING id, job_id, url, payload, attempts""",
        limit,
        lease_s,
    )
    return [
        WebhookDue(r["id"], r["job_id"], r["url"], bytes(r["payload"]), r["attempts"]) for r in rows
    ]


async def record_attempt(
    pool: Pool, attempt: Attempt, outcome: str, retry_in_s: float | None
) -> None:
    """Store one attempt; `outcome` is the delivery's new status."""
    async with transaction(pool) as conn:
        await conn.execute(
            """INSERT INTO webhook_attempts
                   (delivery_id, attempt, status_code, error, duration_ms)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
            attempt.delivery_id,
            attempt.attempt,
            attempt.status_code,
            attempt.error,
            attempt.duration_ms,
        )
        await conn.execute(
            """UPDATE webhook_deliveries SET attempts = $2, status = $3,
                   next_attempt_at = now() + make_interval(secs => coalesce($4, 0)),
                   finished_at = CASE WHEN $3 <> 'pending' THEN now() END
               WHERE id = $1""",
            attempt.delivery_id,
            attempt.attempt,
            outcome,
            retry_in_s,
        )


async def of_job(db: Db, job_id: UUID) -> list[WebhookDelivery]:
    rows = await db.fetch(
        """SELECT d.id, d.url, d.status, d.next_attempt_at, d.created_at, d.finished_at,
                  coalesce(json_agg(json_build_object(
                      'attempt', a.attempt, 'at', a.at, 'status_code', a.status_code,
                      'error', a.error, 'duration_ms', a.duration_ms)
                    ORDER BY a.attempt) FILTER (WHERE a.attempt IS NOT NULL), '[]')
                    AS attempts
           FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
           WHERE d.job_id = $1 GROUP BY d.id""",
        job_id,
    )
    return [
        WebhookDelivery(
            url=r["url"],
            status=r["status"],
            attempts=[WebhookAttempt.model_validate(a) for a in r["attempts"]],
            next_attempt_at=r["next_attempt_at"] if r["status"] == "pending" else None,
            created_at=r["created_at"],
            finished_at=r["finished_at"],
        )
        for r in rows
    ]
