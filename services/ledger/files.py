"""Use case: register, read and delete files (uploads; outputs are registered on completion)."""

from __future__ import annotations

from uuid import UUID

from contracts import FileGetRequest, FileRegisterRequest, FileResponse, OutputFile

from .adapters.pg import Pool
from .adapters.pg import files as pg_files
from .errors import file_not_found


class Files:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def register_file(self, req: FileRegisterRequest) -> FileResponse:
        row = await pg_files.insert(
            self._pool,
            OutputFile(
                id=req.file_id,
                object_key=req.object_key,
                filename=req.filename,
                content_type=req.content_type,
                size=req.size,
                sha256=req.sha256,
                duration_s=req.duration_s,
            ),
            owner=req.owner,
        )
        return FileResponse(file=row.record, object_key=req.object_key)

    async def get_file(self, req: FileGetRequest) -> FileResponse:
        row = await pg_files.get(self._pool, req.file_id, req.owner)
        if row is None:
            return FileResponse(error=file_not_found(req.file_id))
        return FileResponse(file=row.record, object_key=row.object_key)

    async def delete_file(self, file_id: UUID, owner: str) -> FileResponse:
        key = await pg_files.mark_deleted(self._pool, file_id, owner)
        if key is None:
            return FileResponse(error=file_not_found(file_id))
        return FileResponse(object_key=key)
