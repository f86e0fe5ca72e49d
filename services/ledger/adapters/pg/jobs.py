"""`jobs`: inserting new jobs (with their first events and outbox rows) and reading them."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from ...builders import PlannedJob
from ...records import JobRow, NewJob, OutboxMessage
from . import Db, Pool, events, outbox, transaction
from .rows import JOB_COLUMNS, job_row


@dataclass(frozen=True)
class Inserted:
    job: JobRow | None  # None: the id or idempotency key belongs to another tenant
    outbox_ids: list[int]  # of the rows written, in the order of `messages`
    created: bool
    messages: list[OutboxMessage] = field(default_factory=list)  # the rows written


def values_of(job: NewJob) -> dict[str, Any]:
    """Column → value of the row to insert (created_at and finished_at come from SQL)."""
    return {
        "id": job.id,
        "owner": job.owner,
        "type": job.type,
        "status": job.status.value,
        "options": job.options or {},
        "file_id": job.file_id,
        "file_ids": job.file_ids,
        "correlation_id": job.correlation_id,
        "idempotency_key": job.idempotency_key,
        "callback_url": job.callback_url,
        "retention_hours": job.retention_hours,
        "delete_after_retrieval": job.delete_after_retrieval,
        "pipeline": job.pipeline,
        "pipeline_root": job.pipeline_root,
        "pipeline_index": job.pipeline_index,
        "parent_id": job.parent_id,
        "error_code": job.error_code,
        "error_message": job.error_message,
        "steps": job.steps,
        "cache_key": job.cache_key,
        "cached_from": job.cached_from,
    }


async def insert(db: Db, planned: PlannedJob) -> Inserted:
    """Insert a job, its first events and its outbox rows, atomically.

    An existing job of the same owner with the same id or idempotency key is returned
    unchanged (`created` False); one of another owner gives `job` None: ids are never
    shared across tenants.
    """
    values = values_of(planned.new)
    n = len(values)
    status = list(values).index("status") + 1
    # One statement (atomic on its own, one round trip): events and outbox rows are
    # written only if the job was. Parameters: the row's values ($1..$n), then the
    # event columns ($n+1..$n+6), then the outbox columns ($n+7..$n+10).
    e, o = n + 1, n + 7
    row = await db.fetchrow(
        f"""WITH j AS (
                INSERT INTO jobs ({", ".join(values)}, finished_at)
                VALUES ({", ".join(f"${i}" for i in range(1, n + 1))},
                        CASE WHEN ${status} = 'failed' THEN now() END)
                ON CONFLICT DO NOTHING
                RETURNING {JOB_COLUMNS}),
            e AS (
                INSERT INTO job_events (event_id, job_id, kind, attempt, occurred_at, payload)
                {events.FROM_COLUMNS.format(*range(e, e + 6))}
                WHERE EXISTS (SELECT 1 FROM j)
                ON CONFLICT (event_id) DO NOTHING),
            o AS (
                INSERT INTO outbox (subject, msg_id, payload, headers)
                SELECT * FROM unnest(${o}::text[], ${o + 1}::text[], ${o + 2}::bytea[],
                                     ${o + 3}::jsonb[])
                WHERE EXISTS (SELECT 1 FROM j)
                RETURNING id)
            SELECT j.*, (SELECT array_agg(id ORDER BY id) FROM o) AS outbox_ids FROM j""",
        *values.values(),
        *events.columns(planned.events),
        *outbox.columns(planned.outbox),
    )
    if row is not None:
        return Inserted(job_row(row), list(row["outbox_ids"] or []), True, list(planned.outbox))
    existing = await db.fetchrow(
        f"""SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1
            OR (owner = $2 AND idempotency_key = $3)
            ORDER BY (owner = $2) DESC LIMIT 1""",
        planned.new.id,
        planned.new.owner,
        planned.new.idempotency_key,
    )
    if existing is None or existing["owner"] != planned.new.owner:
        return Inserted(None, [], False)
    return Inserted(job_row(existing), [], False)


async def insert_tree(pool: Pool, planned: Sequence[PlannedJob]) -> Inserted:
    """A top-level job and the jobs under it (a batch's children), all or none.

    The answer is the top-level job's; if that job exists already (a repeated
    submission) nothing else is written.
    """
    async with transaction(pool) as conn:
        top, *rest = planned
        first = await insert(conn, top)
        if not first.created:
            return first
        ids, messages = list(first.outbox_ids), list(first.messages)
        for job in rest:
            more = await insert(conn, job)
            ids += more.outbox_ids
            messages += more.messages
        return Inserted(first.job, ids, True, messages)


async def by_id(db: Db, job_id: UUID) -> JobRow | None:
    row = await db.fetchrow(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1", job_id)
    return job_row(row) if row else None


async def get(db: Db, job_id: UUID, owner: str) -> JobRow | None:
    row = await db.fetchrow(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND owner = $2", job_id, owner
    )
    return job_row(row) if row else None


async def get_retrieved(db: Db, job_id: UUID, owner: str, grace_s: float) -> JobRow | None:
    """The job, recording the first fetch of a finished result.

    With delete_after_retrieval the first fetch also brings the job's deletion forward
    to `grace_s` from now (time to follow the presigned URLs that came with it).
    """
    row = await db.fetchrow(
        f"""UPDATE jobs SET retrieved_at = coalesce(retrieved_at, now()),
                ttl_deadline = CASE
                    WHEN delete_after_retrieval AND retrieved_at IS NULL
                    THEN least(ttl_deadline, now() + make_interval(secs => $3))
                    ELSE ttl_deadline END
            WHERE id = $1 AND owner = $2
              AND status IN ('completed', 'failed', 'cancelled')
            RETURNING {JOB_COLUMNS}""",
        job_id,
        owner,
        grace_s,
    )
    return job_row(row) if row is not None else await get(db, job_id, owner)


@dataclass(frozen=True)
class ListFilter:
    owner: str
    status: str | None = None
    type: str | None = None
    parent_id: UUID | None = None


async def page(
    db: Db, where: ListFilter, limit: int, cursor: str | None
) -> tuple[list[JobRow], str | None]:
    """Newest first; raises ValueError (or UnicodeDecodeError) on a cursor not ours."""
    clauses = ["owner = $1"]
    args: list[Any] = [where.owner]
    for column, value in (("status", where.status), ("type", where.type)):
        if value is not None:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    if where.parent_id is not None:
        args.append(where.parent_id)
        clauses.append(f"parent_id = ${len(args)}")
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        args += [created_at, last_id]
        clauses.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await db.fetch(
        f"""SELECT {JOB_COLUMNS} FROM jobs WHERE {" AND ".join(clauses)}
            ORDER BY created_at DESC, id DESC LIMIT ${len(args)}""",
        *args,
    )
    items = [job_row(r) for r in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return items, encode_cursor(last.created_at, last.id) if last else None


def encode_cursor(created_at: datetime, job_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    stamp, job_id = raw.split("|", 1)
    return datetime.fromisoformat(stamp), UUID(job_id)


async def live_descendants(db: Db, job_id: UUID) -> list[tuple[UUID, int]]:
    """(id, attempt) of jobs still to finish under `job_id`: a batch's children, a
    pipeline's later steps, and the steps of a batch child's pipeline."""
    rows = await db.fetch(
        """WITH RECURSIVE d(id) AS (
               SELECT id FROM jobs WHERE (parent_id = $1 OR pipeline_root = $1)
                                     AND id <> $1
               UNION
               SELECT j.id FROM jobs j JOIN d
                 ON (j.parent_id = d.id OR j.pipeline_root = d.id) AND j.id <> d.id)
           SELECT jobs.id, jobs.attempt FROM jobs JOIN d USING (id)
           WHERE jobs.status IN ('pending', 'processing')""",
        job_id,
    )
    return [(r["id"], r["attempt"]) for r in rows]
