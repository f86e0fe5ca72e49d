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
        """INSERT INTO job_events (event_id, job_id, kind, attempt, occurred_at, payload)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[],
                                $5::timestamptz[], $6::jsonb[])
           ON CONFLICT (event_id) DO NOTHING
           RETURNING event_id""",
        *columns(events),
    )
    return {r["event_id"] for r in rows}


def columns(events: Sequence[JobEvent]) -> tuple[list[object], ...]:
    """The events as the column arrays of `job_events` (event_id … payload)."""
    return (
        [e.event_id for e in events],
        [e.job_id for e in events],
        [e.kind for e in events],
        [e.attempt for e in events],
        [e.occurred_at for e in events],
        [e.model_dump(mode="json") for e in events],
    )
