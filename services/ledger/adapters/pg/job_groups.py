"""Many single jobs in one statement: the creations of concurrent submissions together.

The same rows as `jobs.insert` writes for each (the job, its first events, its outbox
rows; events and outbox rows only for the jobs written), one round trip and one commit
for the group. A job already there (a repeated id or idempotency key) comes back as
not written: `jobs.insert` answers for it alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ...builders import PlannedJob
from ...records import JobRow
from . import Db, events
from .jobs import Inserted, values_of
from .rows import JOB_COLUMNS, job_row

# Each column `values_of` gives, with the array type it travels as; jsonb and uuid[]
# travel as text (an array of arrays or of JSON would not).
_TYPES = {
    "id": "uuid",
    "owner": "text",
    "type": "text",
    "status": "text",
    "options": "jsonb",
    "file_id": "uuid",
    "file_ids": "uuid[]",
    "correlation_id": "text",
    "idempotency_key": "text",
    "callback_url": "text",
    "retention_hours": "float8",
    "delete_after_retrieval": "bool",
    "pipeline": "jsonb",
    "pipeline_root": "uuid",
    "pipeline_index": "int",
    "parent_id": "uuid",
    "error_code": "text",
    "error_message": "text",
    "steps": "jsonb",
    "cache_key": "text",
    "cached_from": "uuid",
}
_AS_TEXT = {"jsonb", "uuid[]"}


def _column(kind: str, values: list[Any]) -> list[Any]:
    if kind == "jsonb":
        return [None if v is None else json.dumps(v) for v in values]
    if kind == "uuid[]":
        return [None if v is None else "{" + ",".join(map(str, v)) + "}" for v in values]
    return values


def _statement(names: list[str]) -> str:
    n = len(names)
    params = ", ".join(
        f"${i + 1}::{'text' if _TYPES[c] in _AS_TEXT else _TYPES[c]}[]" for i, c in enumerate(names)
    )
    select = ", ".join(f"t.{c}::{_TYPES[c]}" if _TYPES[c] in _AS_TEXT else f"t.{c}" for c in names)
    e, o = n + 1, n + 7
    return f"""WITH j AS (
            INSERT INTO jobs ({", ".join(names)}, finished_at)
            SELECT {select}, CASE WHEN t.status = 'failed' THEN now() END
            FROM unnest({params}) AS t({", ".join(names)})
            ON CONFLICT DO NOTHING
            RETURNING {JOB_COLUMNS}),
        e AS (
            INSERT INTO job_events (event_id, job_id, kind, attempt, occurred_at, payload)
            SELECT * FROM ({events.FROM_COLUMNS.format(*range(e, e + 6))}) AS ev
            WHERE ev.job_id IN (SELECT id FROM j)
            ON CONFLICT (event_id) DO NOTHING),
        o AS (
            INSERT INTO outbox (subject, msg_id, payload, headers)
            SELECT m.subject, m.msg_id, m.payload, m.headers
            FROM unnest(${o}::text[], ${o + 1}::text[], ${o + 2}::bytea[], ${o + 3}::jsonb[],
                        ${o + 4}::uuid[]) AS m(subject, msg_id, payload, headers, job_id)
            WHERE m.job_id IN (SELECT id FROM j)
            RETURNING id, msg_id)
        SELECT 'job' AS what, j.*, NULL::bigint AS outbox_id, NULL::text AS msg_id FROM j
        UNION ALL
        SELECT 'outbox', {", ".join("NULL" for _ in JOB_COLUMNS.split(","))}, o.id, o.msg_id
        FROM o"""


async def insert_many(db: Db, group: Sequence[PlannedJob]) -> list[Inserted | None]:
    """Per job of `group`, in order: what was written, or None where nothing was (the
    job exists already: ask `jobs.insert`). The group must not repeat a job id or an
    owner's idempotency key (creations.py writes the first, then the rest alone)."""
    rows = [values_of(p.new) for p in group]
    names = list(rows[0])
    columns = [_column(_TYPES[c], [r[c] for r in rows]) for c in names]
    planned_events = [e for p in group for e in p.events]
    messages = [(m, p.new.id) for p in group for m in p.outbox]
    result = await db.fetch(
        _statement(names),
        *columns,
        *events.columns(planned_events),
        [m.subject for m, _ in messages],
        [m.msg_id for m, _ in messages],
        [m.payload for m, _ in messages],
        [m.headers for m, _ in messages],
        [job_id for _, job_id in messages],
    )
    written: dict[UUID, JobRow] = {}
    outbox_ids: dict[str, int] = {}
    for r in result:
        if r["what"] == "job":
            written[r["id"]] = job_row(r)
        else:
            outbox_ids[r["msg_id"]] = r["outbox_id"]
    out: list[Inserted | None] = []
    for p in group:
        job = written.get(p.new.id)
        job = job if job is not None and job.owner == p.new.owner else None
        ids = [outbox_ids[m.msg_id] for m in p.outbox] if job else []
        out.append(Inserted(job, ids, True, list(p.outbox)) if job else None)
    return out
