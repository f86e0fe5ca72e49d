"""The ingestion transaction's reads and writes: lock what a fold touches, apply its plan."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from ...builders import event_message
from ...fold import JobState
from ...planner import FoldInput, FoldPlan
from ...records import OutboxMessage
from . import Conn, events, files, jobs, outbox, webhooks
from .rows import JOB_COLUMNS, child_row, job_row

# CTEs: `related`, the jobs $n names with their pipeline roots and batch parents (and a
# root's parent): what folding their events may move, so what a fold locks.
RELATED = """direct AS (SELECT id, parent_id, pipeline_root FROM jobs
                           WHERE id = ANY(${0}::uuid[])),
                 roots AS (SELECT j.id, j.parent_id FROM jobs j
                           JOIN direct d ON j.id = d.pipeline_root),
                 related AS (SELECT id FROM direct
                             UNION SELECT parent_id FROM direct
                             UNION SELECT id FROM roots
                             UNION SELECT parent_id FROM roots)"""


async def load(conn: Conn, job_ids: Sequence[UUID]) -> FoldInput:
    """Lock the jobs, their pipeline roots and batch parents (and a root's parent): a
    job's move changes those too. One statement locking in id order, so concurrent
    folds of related jobs queue behind each other instead of deadlocking. Then the
    children of the batch parents among them (read, not locked: their own folds lock
    them; the parent's lock orders the recounts)."""
    rows = await conn.fetch(
        f"""WITH {RELATED.format(1)}
            SELECT {JOB_COLUMNS} FROM jobs WHERE id IN (SELECT id FROM related)
            ORDER BY id FOR UPDATE""",
        list(job_ids),
    )
    locked = {r["id"]: job_row(r) for r in rows}
    parents = sorted(
        {r.parent_id for r in locked.values() if r.parent_id is not None and r.parent_id in locked}
    )
    children = (
        await conn.fetch(
            """SELECT id, parent_id, status, progress FROM jobs
               WHERE parent_id = ANY($1::uuid[])""",
            parents,
        )
        if parents
        else []
    )
    return FoldInput(locked, [child_row(c) for c in children])


@dataclass
class Applied:
    """What the committed plan leaves to do: publish these outbox rows."""

    outbox_ids: list[int] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    steps_created: list[str] = field(default_factory=list)  # job types, for the metrics


async def apply(conn: Conn, plan: FoldPlan) -> Applied:
    """Write the plan (inside the caller's transaction)."""
    done = Applied()
    for file, owner, job_id in plan.files:
        await files.insert(conn, file, owner, job_id)
    # In file id order: batches folding side by side must not lock files crosswise.
    for file_id, seconds in sorted(dict(plan.durations).items()):
        await files.set_duration(conn, file_id, seconds)
    for step in plan.steps:
        inserted = await jobs.insert(conn, step)
        if inserted.created:
            done.outbox_ids += inserted.outbox_ids
            done.messages += inserted.messages
            done.steps_created.append(step.new.type)
    await events.insert(conn, plan.events)
    if plan.publish:
        messages = [event_message(e) for e in plan.publish]
        done.outbox_ids += await outbox.insert(conn, messages)
        done.messages += messages
    await webhooks.enqueue(conn, plan.webhooks)
    if plan.states:
        await _write_states(conn, plan.states)
    return done


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
