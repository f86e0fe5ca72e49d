"""Files as clients see them: uploads registered with the ledger, presigned URLs."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request

from .adapters.ledger import LedgerReplyError
from .adapters.uploads import UploadedFile, receive_upload
from .state import Resources
from .views import FileOut, file_out


async def store_upload(
    request: Request, res: Resources, owner: str
) -> tuple[UploadedFile, FileOut]:
    """Stream the request's upload into S3 and register it; nothing is kept if the
    ledger refuses it."""
    uploaded = await receive_upload(request, res.store, res.settings.max_upload_bytes)
    try:
        record = await res.ledger.register_file(
            owner,
            file_id=uploaded.id,
            object_key=uploaded.key,
            filename=uploaded.filename,
            content_type=uploaded.content_type,
            size=uploaded.size,
            sha256=uploaded.sha256,
        )
    except LedgerReplyError:
        await res.store.remove(uploaded.key)
        raise
    return uploaded, file_out(record, uploaded.key, res.store)


async def find_file(res: Resources, file_id: UUID, owner: str) -> FileOut:
    """The file with a fresh presigned URL; 404 if the owner has no such file."""
    stored = await res.ledger.get_file(file_id, owner)
    return file_out(stored.record, stored.object_key, res.store)


async def remove_file(res: Resources, file_id: UUID, owner: str) -> None:
    """Forget the file, then remove its bytes; 404 if the owner has no such file."""
    key = await res.ledger.delete_file(file_id, owner)
    await res.store.remove(key)
