"""`job_events`: every event as received, once (idempotent on `event_id`)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from contracts import JobEvent

from . import Db


async def insert(db: Db, events: Sequence[JobEvent]) -> set[UUID]:
    """Store the events not stored yet; returns the ids of those newly stored."""
    if not events:
        return set()
    rows = await db.fetch(
        f"""INSERT INTO job_events (event_id, job_id, kind, attempt, occurred_at, payload)
            {FROM_COLUMNS.format(1, 2, 3, 4, 5, 6)}
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id""",
        *columns(events),
    )
    return {r["event_id"] for r in rows}


# The rows from the column arrays of `columns`, parameters $a..$f. The payload travels as
# JSON text made by pydantic in one call and is cast in the database: building a dict
# per event for asyncpg's `jsonb` codec to `json.dumps` cost more than the insert.
FROM_COLUMNS = """SELECT event_id, job_id, kind, attempt, occurred_at, payload::jsonb
           FROM unnest(${}::uuid[], ${}::uuid[], ${}::text[], ${}::int[],
                       ${}::timestamptz[], ${}::text[])
                AS t(event_id, job_id, kind, attempt, occurred_at, payload)"""


def columns(events: Sequence[JobEvent]) -> tuple[list[object], ...]:
    """The events as the column arrays of `job_events` (event_id … payload as JSON text)."""
    return (
        [e.event_id for e in events],
        [e.job_id for e in events],
        [e.kind for e in events],
        [e.attempt for e in events],
        [e.occurred_at for e in events],
        [e.model_dump_json() for e in events],
    )
