"""`dead_letters`: messages consumers gave up, newest first."""

from __future__ import annotations

from contracts import DeadLetter, DeadLetterRecord

from . import Db

COLUMNS = "id, consumer, subject, stream, stream_seq, delivered, reason, excerpt, recorded_at"


async def insert(db: Db, letter: DeadLetter) -> bool:
    """False when this message was recorded already."""
    row = await db.fetchrow(
        """INSERT INTO dead_letters
               (consumer, subject, stream, stream_seq, delivered, reason, excerpt)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (consumer, stream, stream_seq) WHERE stream_seq IS NOT NULL DO NOTHING
           RETURNING id""",
        letter.consumer,
        letter.subject,
        letter.stream,
        letter.stream_seq,
        letter.delivered,
        letter.reason,
        letter.excerpt,
    )
    return row is not None


async def page(db: Db, limit: int, before: int | None) -> list[DeadLetterRecord]:
    rows = await db.fetch(
        f"""SELECT {COLUMNS} FROM dead_letters
            WHERE $2::bigint IS NULL OR id < $2
            ORDER BY id DESC LIMIT $1""",
        limit,
        before,
    )
    return [DeadLetterRecord.model_validate(dict(r)) for r in rows]
