"""`outbox`: messages committed with the change that made them, published afterwards."""

from __future__ import annotations

from collections.abc import Sequence

from ...records import OutboxMessage
from . import Db


def columns(messages: Sequence[OutboxMessage]) -> tuple[list[object], ...]:
    """The messages as the column arrays of `outbox` (subject, msg_id, payload, headers)."""
    return (
        [m.subject for m in messages],
        [m.msg_id for m in messages],
        [m.payload for m in messages],
        [m.headers for m in messages],
    )


async def insert(db: Db, messages: Sequence[OutboxMessage]) -> list[int]:
    """Their ids, in the order of `messages` (ids come from a sequence in insertion order)."""
    if not messages:
        return []
    rows = await db.fetch(
        """INSERT INTO outbox (subject, msg_id, payload, headers)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])
           RETURNING id""",
        *columns(messages),
    )
    return sorted(r["id"] for r in rows)


async def unpublished(db: Db, older_than_s: float, limit: int) -> list[tuple[int, OutboxMessage]]:
    rows = await db.fetch(
        """SELECT id, subject, msg_id, payload, headers FROM outbox
           WHERE published_at IS NULL
             AND created_at <= now() - make_interval(secs => $1)
           ORDER BY id LIMIT $2""",
        older_than_s,
        limit,
    )
    return [
        (r["id"], OutboxMessage(r["subject"], r["msg_id"], bytes(r["payload"]), r["headers"]))
        for r in rows
    ]


async def mark_published(db: Db, ids: Sequence[int]) -> None:
    if ids:
        await db.execute(
            "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", list(ids)
        )
