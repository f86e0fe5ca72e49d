"""`files`: uploads and job outputs (metadata; the bytes are in S3)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from contracts import OutputFile

from ...records import FileRow
from . import Db
from .rows import file_row


async def insert(db: Db, file: OutputFile, owner: str, job_id: UUID | None = None) -> FileRow:
    """Register a file (an output registered again keeps its row, with fresh size/sha)."""
    row = await db.fetchrow(
        """INSERT INTO files (id, owner, object_key, filename, content_type, size,
                              sha256, duration_s, job_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (id) DO UPDATE SET size = EXCLUDED.size, sha256 = EXCLUDED.sha256
           RETURNING *""",
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
    if row is None:  # INSERT … ON CONFLICT DO UPDATE … RETURNING always returns the row
        raise RuntimeError(f"file {file.id} was not stored")
    return file_row(row)


async def get(db: Db, file_id: UUID, owner: str) -> FileRow | None:
    row = await db.fetchrow(
        "SELECT * FROM files WHERE id = $1 AND owner = $2 AND deleted_at IS NULL",
        file_id,
        owner,
    )
    return file_row(row) if row else None


async def of_owner(db: Db, file_ids: Sequence[UUID], owner: str) -> dict[UUID, FileRow]:
    """Those of `file_ids` that `owner` has (and not deleted)."""
    rows = await db.fetch(
        """SELECT * FROM files
           WHERE id = ANY($1::uuid[]) AND owner = $2 AND deleted_at IS NULL""",
        list(file_ids),
        owner,
    )
    return {r["id"]: file_row(r) for r in rows}


async def live(db: Db, file_ids: Sequence[UUID]) -> list[FileRow]:
    """Those of `file_ids` not deleted, whoever owns them."""
    rows = await db.fetch(
        "SELECT * FROM files WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL", list(file_ids)
    )
    return [file_row(r) for r in rows]


async def set_duration(db: Db, file_id: UUID, duration_s: float) -> None:
    await db.execute(
        "UPDATE files SET duration_s = $2 WHERE id = $1 AND duration_s IS NULL",
        file_id,
        duration_s,
    )


async def mark_deleted(db: Db, file_id: UUID, owner: str) -> str | None:
    """The object key of the file now marked deleted, or None if there was none."""
    key: str | None = await db.fetchval(
        """UPDATE files SET deleted_at = now()
           WHERE id = $1 AND owner = $2 AND deleted_at IS NULL RETURNING object_key""",
        file_id,
        owner,
    )
    return key
