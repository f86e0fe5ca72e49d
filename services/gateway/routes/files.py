"""/v1/files: streamed uploads, metadata, presigned downloads, deletion."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from contracts import ErrorCode

from ..errors import ApiError
from ..state import Owner, Res
from ..stored_files import find_file, remove_file, store_upload
from ..views import FileOut

router = APIRouter(prefix="/v1/files", tags=["files"])


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
    """Upload media (multipart field `file`), streamed to S3, never held in memory.

    The part's `Content-Type` must be a media type (`type/subtype[; name=value]`,
    printable ASCII, at most 255 bytes), else 422 `invalid_request`; without one it is
    guessed from the file name. The file name is stored without control characters and
    cut to 255 bytes of UTF-8, its extension kept."""
    _, out = await store_upload(request, res, owner)
    return out


@router.get("/{file_id}", response_model=FileOut)
async def get_file(file_id: UUID, res: Res, owner: Owner) -> FileOut:
    return await find_file(res, file_id, owner)


@router.get("/{file_id}/content", status_code=307, response_class=RedirectResponse)
async def file_content(file_id: UUID, res: Res, owner: Owner) -> RedirectResponse:
    """Redirect to a short-lived presigned URL of the file's bytes."""
    out = await find_file(res, file_id, owner)
    if out.url is None:  # no stored bytes to point to
        raise ApiError(404, ErrorCode.FILE_NOT_FOUND, f"file {file_id} not found")
    return RedirectResponse(out.url, status_code=307)


@router.delete("/{file_id}", status_code=204, response_class=Response)
async def delete_file(file_id: UUID, res: Res, owner: Owner) -> Response:
    await remove_file(res, file_id, owner)
    return Response(status_code=204)
