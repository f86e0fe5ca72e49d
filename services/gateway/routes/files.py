"""/v1/files: streamed uploads, metadata, presigned downloads, deletion."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from contracts import FileRegisterRequest

from ..errors import ApiError
from ..state import Owner, Res
from ..uploads import UploadedFile, receive_upload
from ..views import FileOut, file_out

router = APIRouter(prefix="/v1/files", tags=["files"])


async def store_upload(request: Request, res: Res, owner: str) -> tuple[UploadedFile, FileOut]:
    uploaded = await receive_upload(request, res.store, res.settings.max_upload_bytes)
    reply = await res.ledger.register_file(
        FileRegisterRequest(
            file_id=uploaded.id,
            object_key=uploaded.key,
            filename=uploaded.filename,
            content_type=uploaded.content_type,
            size=uploaded.size,
            sha256=uploaded.sha256,
            owner=owner,
        )
    )
    if reply.error or reply.file is None:
        await res.store.remove(uploaded.key)
        raise ApiError(503, "unavailable", reply.error.message if reply.error else "no file")
    return uploaded, file_out(reply.file, uploaded.key, res.store)


@router.post(
    "",
    status_code=201,
    response_model=FileOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
            "required": True,
        }
    },
)
async def upload_file(request: Request, res: Res, owner: Owner) -> FileOut:
    """Upload media (multipart field `file`), streamed to S3, never held in memory."""
    _, out = await store_upload(request, res, owner)
    return out


async def _get(res: Res, owner: str, file_id: UUID) -> tuple[FileOut, str]:
    reply = await res.ledger.get_file(file_id, owner)
    if reply.error or reply.file is None or reply.object_key is None:
        raise ApiError(404, "file_not_found", f"file {file_id} not found")
    return file_out(reply.file, reply.object_key, res.store), reply.object_key


@router.get("/{file_id}", response_model=FileOut)
async def get_file(file_id: UUID, res: Res, owner: Owner) -> FileOut:
    out, _ = await _get(res, owner, file_id)
    return out


@router.get("/{file_id}/content", status_code=307, response_class=RedirectResponse)
async def file_content(file_id: UUID, res: Res, owner: Owner) -> RedirectResponse:
    """Redirect to a short-lived presigned URL of the file's bytes."""
    out, _ = await _get(res, owner, file_id)
    assert out.url is not None
    return RedirectResponse(out.url, status_code=307)


@router.delete("/{file_id}", status_code=204, response_class=Response)
async def delete_file(file_id: UUID, res: Res, owner: Owner) -> Response:
    reply = await res.ledger.delete_file(file_id, owner)
    if reply.error or reply.object_key is None:
        raise ApiError(404, "file_not_found", f"file {file_id} not found")
    await res.store.remove(reply.object_key)
    return Response(status_code=204)
