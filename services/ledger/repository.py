"""All SQL the ledger runs (asyncpg). Nothing else in the service writes SQL."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from contracts import (
    ErrorInfo,
    FileRecord,
    JobEvent,
    JobRecord,
    JobStatus,
    OutputFile,
    StepState,
    WebhookAttempt,
    WebhookDelivery,
)

from .fold import JobState

Conn = asyncpg.Connection | PoolConnectionProxy  # a pool hands out proxies

JOB_COLUMNS = """id, owner, type, status, options, file_id, file_ids, output_file_ids, result,
    error_code, error_message, attempt, progress, language, parent_id, pipeline,
    pipeline_root, pipeline_index, retention_hours, delete_after_retrieval, created_at,
    started_at, finished_at, retrieved_at, ttl_deadline, steps, correlation_id, callback_url,
    cache_key, cache_model, cached_from"""


async def release_connection(conn: Conn) -> None:
    """Replaces asyncpg's per-release `RESET ALL ...` round trip: the ledger never leaves
    session state behind (no SET, LISTEN or held advisory locks); only a transaction
    left open by an error needs undoing."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def init_connection(conn: Conn) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@dataclass(frozen=True)
class NewJob:
    id: UUID
    owner: str
    type: str
    status: JobStatus
    options: dict[str, Any]
    file_id: UUID | None
    file_ids: list[UUID] | None
    correlation_id: str | None
    idempotency_key: str | None
    callback_url: str | None
    retention_hours: float | None
    delete_after_retrieval: bool
    pipeline: list[dict[str, Any]] | None = None
    pipeline_root: UUID | None = None
    pipeline_index: int | None = None
    parent_id: UUID | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None
    steps: list[dict[str, Any]] | None = None
    cache_key: str | None = None
    cached_from: UUID | None = None


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    msg_id: str
    payload: bytes
    headers: dict[str, str] | None = None  # besides Nats-Msg-Id: the trace context


def job_record(row: asyncpg.Record) -> JobRecord:
    error = (
        ErrorInfo(code=row["error_code"], message=row["error_message"] or "")
        if row["error_code"]
        else None
    )
    return JobRecord(
        id=row["id"],
        type=row["type"],
        status=JobStatus(row["status"]),
        progress=row["progress"],
        attempt=row["attempt"],
        file_id=row["file_id"],
        options=row["options"] or {},
        result=row["result"],
        error=error,
        parent_id=row["parent_id"],
        language=row["language"],
        output_file_ids=list(row["output_file_ids"] or []),
        steps=[StepState.model_validate(x) for x in row["steps"]] if row["steps"] else None,
        file_ids=list(row["file_ids"]) if row["file_ids"] is not None else None,
        callback_url=row["callback_url"],
        retention_hours=row["retention_hours"],
        delete_after_retrieval=row["delete_after_retrieval"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        retrieved_at=row["retrieved_at"],
        ttl_deadline=row["ttl_deadline"],
    )


def job_state(row: asyncpg.Record) -> JobState:
    return JobState(
        status=JobStatus(row["status"]),
        attempt=row["attempt"],
        progress=row["progress"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        result=row["result"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        language=row["language"],
        output_file_ids=tuple(row["output_file_ids"] or ()),
        retention_hours=row["retention_hours"],
        ttl_deadline=row["ttl_deadline"],
        steps=row["steps"],
        model=row["cache_model"],
    )


def file_record(row: asyncpg.Record) -> FileRecord:
    return FileRecord(
        id=row["id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        duration_s=row["duration_s"],
        created_at=row["created_at"],
        job_id=row["job_id"],
    )


def encode_cursor(created_at: datetime, job_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    stamp, job_id = raw.split("|", 1)
    return datetime.fromisoformat(stamp), UUID(job_id)


class Repository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # --- files ---------------------------------------------------------------------

    async def insert_file(
        self,
        file: OutputFile,
        owner: str,
        job_id: UUID | None = None,
        conn: Conn | None = None,
    ) -> FileRecord:
        sql = """INSERT INTO files (id, owner, object_key, filename, content_type, size,
                                    sha256, duration_s, job_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET size = EXCLUDED.size, sha256 = EXCLUDED.sha256
                 RETURNING *"""
        args = (
            file.id,
            owner,
            file.object_key,
            file.filename,
            file.content_type,
            file.size,
            file.sha256,
            file.duration_s,
            job_id,
        )
        if conn is not None:
            row = await conn.fetchrow(sql, *args)
        else:
            row = await self.pool.fetchrow(sql, *args)
        assert row is not None
        return file_record(row)

    async def get_file(self, file_id: UUID, owner: str) -> tuple[FileRecord, str] | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM files WHERE id = $1 AND owner = $2 AND deleted_at IS NULL",
            file_id,
            owner,
        )
        return (file_record(row), row["object_key"]) if row else None

    @staticmethod
    async def set_file_duration(file_id: UUID, duration_s: float, conn: Conn) -> None:
        await conn.execute(
            "UPDATE files SET duration_s = $2 WHERE id = $1 AND duration_s IS NULL",
            file_id,
            duration_s,
        )

    async def mark_file_deleted(self, file_id: UUID, owner: str) -> str | None:
        return await self.pool.fetchval(  # type: ignore[no-any-return]
            """UPDATE files SET deleted_at = now()
               WHERE id = $1 AND owner = $2 AND deleted_at IS NULL RETURNING object_key""",
            file_id,
            owner,
        )

    # --- jobs ----------------------------------------------------------------------

    async def find_job(self, job_id: UUID) -> JobRecord | None:
        row = await self.pool.fetchrow(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1", job_id)
        return job_record(row) if row else None

    async def find_by_idempotency_key(self, owner: str, key: str) -> JobRecord | None:
        row = await self.pool.fetchrow(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE owner = $1 AND idempotency_key = $2",
            owner,
            key,
        )
        return job_record(row) if row else None

    async def create_job(
        self,
        job: NewJob,
        events: Sequence[JobEvent],
        outbox: Sequence[OutboxMessage],
        conn: Conn | None = None,
    ) -> tuple[JobRecord | None, list[int], bool]:
        """Insert a job, its first events and its outbox rows in one transaction.

        Returns (job, outbox ids, created). An existing job of the same owner with the
        same id or idempotency key is returned unchanged (`created` False); one that
        belongs to another owner gives `None`: ids are never shared across tenants.
        """
        # One statement (atomic on its own): job, first events and outbox rows together,
        # in a single round trip. Events and outbox rows are written only if the job was.
        db = conn if conn is not None else self.pool
        row = await db.fetchrow(
            f"""WITH j AS (
                    INSERT INTO jobs (id, owner, type, status, options, file_id, file_ids,
                        correlation_id, idempotency_key, callback_url, retention_hours,
                        delete_after_retrieval, pipeline, pipeline_root, pipeline_index,
                        parent_id, error_code, error_message, created_at, finished_at, steps,
                        cache_key, cached_from)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                            $16, $17, $18, coalesce($19, now()),
                            CASE WHEN $4 = 'failed' THEN now() END, $29, $30, $31)
                    ON CONFLICT DO NOTHING
                    RETURNING {JOB_COLUMNS}),
                e AS (
                    INSERT INTO job_events (event_id, job_id, kind, attempt, occurred_at, payload)
                    SELECT * FROM unnest($20::uuid[], $21::uuid[], $22::text[], $23::int[],
                                         $24::timestamptz[], $25::jsonb[])
                    WHERE EXISTS (SELECT 1 FROM j)
                    ON CONFLICT (event_id) DO NOTHING),
                o AS (
                    INSERT INTO outbox (subject, msg_id, payload, headers)
                    SELECT * FROM unnest($26::text[], $27::text[], $28::bytea[], $32::jsonb[])
                    WHERE EXISTS (SELECT 1 FROM j)
                    RETURNING id)
                SELECT j.*, (SELECT array_agg(id ORDER BY id) FROM o) AS outbox_ids FROM j""",
            job.id,
            job.owner,
            job.type,
            job.status.value,
            job.options,
            job.file_id,
            job.file_ids,
            job.correlation_id,
            job.idempotency_key,
            job.callback_url,
            job.retention_hours,
            job.delete_after_retrieval,
            job.pipeline,
            job.pipeline_root,
            job.pipeline_index,
            job.parent_id,
            job.error_code,
            job.error_message,
            job.created_at,
            [e.event_id for e in events],
            [e.job_id for e in events],
            [e.kind for e in events],
            [e.attempt for e in events],
            [e.occurred_at for e in events],
            [e.model_dump(mode="json") for e in events],
            [m.subject for m in outbox],
            [m.msg_id for m in outbox],
            [m.payload for m in outbox],
            job.steps,
            job.cache_key,
            job.cached_from,
            [m.headers for m in outbox],
        )
        if row is not None:
            # Outbox ids come from a sequence in insertion order: the order of `outbox`.
            return job_record(row), list(row["outbox_ids"] or []), True
        existing = await db.fetchrow(
            f"""SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1
                OR (owner = $2 AND idempotency_key = $3)
                ORDER BY (owner = $2) DESC LIMIT 1""",
            job.id,
            job.owner,
            job.idempotency_key,
        )
        if existing is None or existing["owner"] != job.owner:
            return None, [], False
        return job_record(existing), [], False

    async def create_jobs(
        self, jobs: Sequence[tuple[NewJob, Sequence[JobEvent], Sequence[OutboxMessage]]]
    ) -> tuple[JobRecord | None, list[int], bool]:
        """A top-level job and the jobs under it (a batch's children), all or none.

        The answer is the top-level job's, as for `create_job`; if that job exists
        already (a repeated submission) nothing else is written.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            (top, events, outbox), *rest = jobs
            job, ids, created = await self.create_job(top, events, outbox, conn=conn)
            if not created:
                return job, [], False
            for new, more_events, more_outbox in rest:
                _, more_ids, _ = await self.create_job(new, more_events, more_outbox, conn=conn)
                ids += more_ids
            return job, ids, True

    async def find_job_row(self, job_id: UUID) -> asyncpg.Record | None:
        return await self.pool.fetchrow(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1", job_id)

    async def list_jobs(
        self,
        owner: str,
        status: str | None,
        job_type: str | None,
        parent_id: UUID | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[JobRecord], str | None]:
        clauses = ["owner = $1"]
        args: list[Any] = [owner]
        for column, value in (("status", status), ("type", job_type), ("parent_id", parent_id)):
            if value is not None:
                args.append(value)
                clauses.append(f"{column} = ${len(args)}")
        if cursor:
            created_at, last_id = decode_cursor(cursor)
            args += [created_at, last_id]
            clauses.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
        args.append(limit + 1)
        rows = await self.pool.fetch(
            f"""SELECT {JOB_COLUMNS} FROM jobs WHERE {" AND ".join(clauses)}
                ORDER BY created_at DESC, id DESC LIMIT ${len(args)}""",
            *args,
        )
        items = [job_record(r) for r in rows[:limit]]
        next_cursor = (
            encode_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"])
            if len(rows) > limit
            else None
        )
        return items, next_cursor

    async def get_job(
        self, job_id: UUID, owner: str, mark_retrieved: bool, retrieval_grace_s: float = 0.0
    ) -> JobRecord | None:
        if mark_retrieved:
            # The first fetch of a finished result is recorded; with delete_after_retrieval
            # it also brings the job's deletion forward to a short grace period from now
            # (time to follow the presigned URLs that came with the result).
            row = await self.pool.fetchrow(
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
                retrieval_grace_s,
            )
            if row is not None:
                return job_record(row)
        row = await self.pool.fetchrow(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND owner = $2", job_id, owner
        )
        return job_record(row) if row else None

    async def job_events(self, job_id: UUID) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT payload FROM job_events WHERE job_id = $1 ORDER BY seq", job_id
        )
        return [r["payload"] for r in rows]

    # --- events --------------------------------------------------------------------

    async def insert_events(self, conn: Conn, events: Sequence[JobEvent]) -> set[UUID]:
        return await self._insert_events(conn, events)

    @staticmethod
    async def _insert_events(conn: Conn, events: Sequence[JobEvent]) -> set[UUID]:
        if not events:
            return set()
        rows = await conn.fetch(
            """INSERT INTO job_events (event_id, job_id, kind, attempt, occurred_at, payload)
               SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[],
                                    $5::timestamptz[], $6::jsonb[])
               ON CONFLICT (event_id) DO NOTHING
               RETURNING event_id""",
            [e.event_id for e in events],
            [e.job_id for e in events],
            [e.kind for e in events],
            [e.attempt for e in events],
            [e.occurred_at for e in events],
            [e.model_dump(mode="json") for e in events],
        )
        return {r["event_id"] for r in rows}

    async def ingest_events(
        self,
        events: Sequence[JobEvent],
        fold_all: Any,
    ) -> int:
        """Append events (idempotently) and fold the new ones into their jobs.

        `fold_all(states, new_events, conn)` receives {job_id: (JobState, owner)} for the
        affected jobs, returns the changed states and may write more rows through conn.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            inserted = await self._insert_events(conn, events)
            fresh = [e for e in events if e.event_id in inserted]
            if not fresh:
                return 0
            rows = await self.lock_jobs(conn, sorted({e.job_id for e in fresh}))
            states = {r["id"]: (job_state(r), r) for r in rows}
            changed: dict[UUID, JobState] = await fold_all(states, fresh, conn)
            if changed:
                await self._write_states(conn, changed)
            return len(fresh)

    @staticmethod
    async def lock_jobs(conn: Conn, job_ids: Sequence[UUID]) -> list[asyncpg.Record]:
        """Lock the jobs, their pipeline roots and batch parents (and a root's parent): a
        job's move changes those too. One statement locking in id order, so concurrent
        folds of related jobs queue behind each other instead of deadlocking."""
        return list(
            await conn.fetch(
                f"""WITH direct AS (SELECT id, parent_id, pipeline_root FROM jobs
                                    WHERE id = ANY($1::uuid[])),
                         roots AS (SELECT j.id, j.parent_id FROM jobs j
                                   JOIN direct d ON j.id = d.pipeline_root),
                         related AS (SELECT id FROM direct
                                     UNION SELECT parent_id FROM direct
                                     UNION SELECT id FROM roots
                                     UNION SELECT parent_id FROM roots)
                    SELECT {JOB_COLUMNS} FROM jobs WHERE id IN (SELECT id FROM related)
                    ORDER BY id FOR UPDATE""",
                list(job_ids),
            )
        )

    @staticmethod
    async def children_of(conn: Conn, parent_ids: Sequence[UUID]) -> list[asyncpg.Record]:
        return list(
            await conn.fetch(
                """SELECT id, parent_id, status, progress FROM jobs
                   WHERE parent_id = ANY($1::uuid[])""",
                list(parent_ids),
            )
        )

    async def live_descendants(self, job_id: UUID) -> list[asyncpg.Record]:
        """Jobs still to finish under `job_id`: a batch's children, a pipeline's later
        steps, and the steps of a batch child's pipeline."""
        return list(
            await self.pool.fetch(
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
        )

    @staticmethod
    async def _write_states(conn: Conn, changed: dict[UUID, JobState]) -> None:
        ids = list(changed)
        s = [changed[i] for i in ids]
        await conn.execute(
            """UPDATE jobs AS j SET
                   status = u.status, attempt = u.attempt, progress = u.progress,
                   started_at = u.started_at, finished_at = u.finished_at, result = u.result,
                   error_code = u.error_code, error_message = u.error_message,
                   language = u.language, output_file_ids = u.outputs::uuid[],
                   ttl_deadline = u.ttl_deadline, steps = u.steps::jsonb,
                   cache_model = u.model, updated_at = now()
               FROM (SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::float8[],
                        $5::timestamptz[], $6::timestamptz[], $7::jsonb[], $8::text[],
                        $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::text[],
                        $14::text[])
                     AS t(id, status, attempt, progress, started_at, finished_at, result,
                          error_code, error_message, language, outputs, ttl_deadline, steps,
                          model)) AS u
               WHERE j.id = u.id""",
            ids,
            [x.status.value for x in s],
            [x.attempt for x in s],
            [x.progress for x in s],
            [x.started_at for x in s],
            [x.finished_at for x in s],
            [x.result for x in s],
            [x.error_code for x in s],
            [x.error_message for x in s],
            [x.language for x in s],
            ["{" + ",".join(str(o) for o in x.output_file_ids) + "}" for x in s],
            [x.ttl_deadline for x in s],
            # As JSON text: a list inside a jsonb[] would be read as a nested array.
            [json.dumps(x.steps) if x.steps is not None else None for x in s],
            [x.model for x in s],
        )

    # --- outbox --------------------------------------------------------------------

    @staticmethod
    async def _insert_outbox(conn: Conn, messages: Sequence[OutboxMessage]) -> list[int]:
        if not messages:
            return []
        rows = await conn.fetch(
            """INSERT INTO outbox (subject, msg_id, payload, headers)
               SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])
               RETURNING id""",
            [m.subject for m in messages],
            [m.msg_id for m in messages],
            [m.payload for m in messages],
            [m.headers for m in messages],
        )
        # Ids come from a sequence in insertion order, which is the order of `messages`.
        return sorted(r["id"] for r in rows)

    async def add_outbox(self, conn: Conn, messages: Sequence[OutboxMessage]) -> list[int]:
        return await self._insert_outbox(conn, messages)

    async def unpublished_outbox(self, older_than_s: float, limit: int) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            """SELECT id, subject, msg_id, payload, headers FROM outbox
               WHERE published_at IS NULL
                 AND created_at <= now() - make_interval(secs => $1)
               ORDER BY id LIMIT $2""",
            older_than_s,
            limit,
        )

    async def mark_published(self, ids: Sequence[int]) -> None:
        if ids:
            await self.pool.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", list(ids)
            )

    # --- retention -------------------------------------------------------------------

    async def due_expirations(self, limit: int) -> list[asyncpg.Record]:
        """Finished jobs whose retention has run out (oldest first)."""
        return list(
            await self.pool.fetch(
                """SELECT id, owner, attempt, file_id, file_ids FROM jobs
                   WHERE ttl_deadline <= now()
                     AND status IN ('completed', 'failed', 'cancelled')
                   ORDER BY ttl_deadline LIMIT $1""",
                limit,
            )
        )

    async def output_keys(self, job_id: UUID) -> list[tuple[UUID, str]]:
        rows = await self.pool.fetch(
            "SELECT id, object_key FROM files WHERE job_id = $1 AND deleted_at IS NULL", job_id
        )
        return [(r["id"], r["object_key"]) for r in rows]

    async def orphaned_uploads(self, file_ids: Sequence[UUID]) -> list[tuple[UUID, str]]:
        """Of these uploads, those no live job still needs (every job using one expired)."""
        rows = await self.pool.fetch(
            """SELECT f.id, f.object_key FROM files f
               WHERE f.id = ANY($1::uuid[]) AND f.job_id IS NULL AND f.deleted_at IS NULL
                 AND NOT EXISTS (
                     SELECT 1 FROM jobs j
                     WHERE (j.file_id = f.id OR f.id = ANY(j.file_ids))
                       AND j.status <> 'expired')""",
            list(file_ids),
        )
        return [(r["id"], r["object_key"]) for r in rows]

    async def stale_uploads(self, max_age_hours: float, limit: int) -> list[tuple[UUID, str]]:
        """Uploads never used by any job, older than the retention for unused files."""
        rows = await self.pool.fetch(
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

    async def mark_files_deleted(self, file_ids: Sequence[UUID]) -> None:
        if file_ids:
            await self.pool.execute(
                "UPDATE files SET deleted_at = now() WHERE id = ANY($1::uuid[])", list(file_ids)
            )

    # --- webhooks --------------------------------------------------------------------

    @staticmethod
    async def enqueue_webhooks(conn: Conn, deliveries: Sequence[tuple[UUID, str, bytes]]) -> None:
        """(job_id, url, body) rows; a job has one webhook, so a repeat changes nothing."""
        if deliveries:
            await conn.execute(
                """INSERT INTO webhook_deliveries (job_id, url, payload)
                   SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])
                   ON CONFLICT (job_id) DO NOTHING""",
                [d[0] for d in deliveries],
                [d[1] for d in deliveries],
                [d[2] for d in deliveries],
            )

    async def claim_webhooks(self, limit: int, lease_s: float) -> list[asyncpg.Record]:
        """Take due deliveries for `lease_s` (another replica skips them meanwhile)."""
        return list(
            await self.pool.fetch(
                """UPDATE webhook_deliveries
                   SET next_attempt_at = now() + make_interval(secs => $2)
                   WHERE id IN (SELECT id FROM webhook_deliveries
                                WHERE status = 'pending' AND next_attempt_at <= now()
                                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
                   RETURNING id, job_id, url, payload, attempts""",
                limit,
                lease_s,
            )
        )

    async def record_webhook_attempt(
        self,
        delivery_id: int,
        attempt: int,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        outcome: str,
        retry_in_s: float | None,
    ) -> None:
        """Store one attempt; `outcome` is the delivery's new status."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO webhook_attempts
                       (delivery_id, attempt, status_code, error, duration_ms)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
                delivery_id,
                attempt,
                status_code,
                error,
                duration_ms,
            )
            await conn.execute(
                """UPDATE webhook_deliveries SET attempts = $2, status = $3,
                       next_attempt_at = now() + make_interval(secs => coalesce($4, 0)),
                       finished_at = CASE WHEN $3 <> 'pending' THEN now() END
                   WHERE id = $1""",
                delivery_id,
                attempt,
                outcome,
                retry_in_s,
            )

    async def webhooks_of(self, job_id: UUID) -> list[WebhookDelivery]:
        rows = await self.pool.fetch(
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

    # --- result cache ----------------------------------------------------------------

    async def find_cached(
        self, owner: str, cache_key: str, model: str, min_life_s: float
    ) -> asyncpg.Record | None:
        """The newest completed job with this key and model that is not about to expire."""
        return await self.pool.fetchrow(
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

    async def output_files(self, file_ids: Sequence[UUID]) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                """SELECT * FROM files WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL""",
                list(file_ids),
            )
        )

    async def stuck_cache_hits(self, older_than_s: float) -> list[asyncpg.Record]:
        """Cache hits not served yet (a ledger stopped in between): served again."""
        return list(
            await self.pool.fetch(
                f"""SELECT {JOB_COLUMNS} FROM jobs
                    WHERE status = 'pending' AND cached_from IS NOT NULL
                      AND created_at <= now() - make_interval(secs => $1)
                    LIMIT 100""",
                older_than_s,
            )
        )

    async def clear_cached_from(self, job_id: UUID, conn: Conn) -> None:
        await conn.execute("UPDATE jobs SET cached_from = NULL WHERE id = $1", job_id)

    async def files_by_id(self, file_ids: Sequence[UUID], owner: str) -> dict[UUID, asyncpg.Record]:
        rows = await self.pool.fetch(
            """SELECT id, object_key, filename, sha256 FROM files
               WHERE id = ANY($1::uuid[]) AND owner = $2 AND deleted_at IS NULL""",
            list(file_ids),
            owner,
        )
        return {r["id"]: r for r in rows}
