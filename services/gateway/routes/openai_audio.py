"""OpenAI's audio endpoints: `POST /v1/audio/transcriptions` and `/v1/audio/translations`.

Each call is a jetscribe job (recorded, cached, retried, visible in `GET /v1/jobs`) that
the call waits for; `X-Jetscribe-Job-Id` names it on every answer after it was
submitted. A client that goes away leaves the job to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, Request, Response

from contracts import ErrorCode, JobRecord, JobStatus, SubmitJob
from services.common.logging import get_logger

from ..errors import ApiError, error_response
from ..openai.errors import failure_status
from ..openai.requests import AudioRequest, Task, read_request
from ..openai.responses import render
from ..state import Owner, Res, Resources
from ..stored_files import remove_file, store_upload
from ..submissions import submit_job, validate_options
from ..waiting import wait_for_job

log = get_logger(__name__)
router = APIRouter(prefix="/v1/audio", tags=["OpenAI-compatible audio"])
JOB_HEADER = "X-Jetscribe-Job-Id"
NO_RETRY = {"x-should-retry": "false"}  # honoured by OpenAI's SDKs (they retry 5xx otherwise)
MEDIA_CODES = {ErrorCode.UNREADABLE_MEDIA, ErrorCode.UNSUPPORTED_MEDIA, ErrorCode.PAYLOAD_TOO_LARGE}
FORM_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "model"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "model": {"type": "string", "example": "whisper-1"},
                        "language": {"type": "string", "description": "transcriptions only"},
                        "prompt": {"type": "string"},
                        "response_format": {
                            "type": "string",
                            "enum": ["json", "text", "srt", "vtt", "verbose_json"],
                        },
                        "temperature": {"type": "number", "minimum": 0, "maximum": 1},
                        "timestamp_granularities[]": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["word", "segment"]},
                            "description": "transcriptions, with verbose_json only",
                        },
                    },
                }
            }
        },
    }
}


# What a 200 is: JSON for json/verbose_json, the document for text/srt/vtt.
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`json`: `{text}`; `verbose_json`: `{task, language, duration, text, "
        "segments?, words?}`; `text`, `srt`, `vtt`: the document.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


@router.post("/transcriptions", openapi_extra=FORM_DOC, responses=ANSWERS)
async def transcriptions(
    request: Request,
    res: Res,
    owner: Owner,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Speech to text in the audio's language, answered in OpenAI's shapes."""
    return await answer(request, res, owner, "transcribe", idempotency_key)


@router.post("/translations", openapi_extra=FORM_DOC, responses=ANSWERS)
async def translations(
    request: Request,
    res: Res,
    owner: Owner,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Speech to English text, answered in OpenAI's shapes."""
    return await answer(request, res, owner, "translate", idempotency_key)


async def answer(
    request: Request, res: Resources, owner: str, task: Task, idempotency_key: str | None
) -> Response:
    uploaded, _ = await store_upload(request, res, owner)
    try:
        audio = read_request(task, uploaded.form, res.settings.openai_models)
        job_type, options = audio.job()
        validate_options(job_type, options)
        job = await submit_job(
            res,
            SubmitJob(
                job_id=uuid4(),
                type=job_type,
                file_id=uploaded.id,
                options=options,
                owner=owner,
                idempotency_key=idempotency_key,
            ),
        )
    except BaseException:  # refused, failed or cancelled: nothing of the call is kept
        await _forget(res, uploaded.id, owner)
        raise
    if job.file_id != uploaded.id:  # the Idempotency-Key named an earlier call's job
        await _forget(res, uploaded.id, owner)
    try:
        waited = await _wait_unless_gone(request, res, job.id, owner)
    except ApiError as exc:
        exc.headers = {**(exc.headers or {}), JOB_HEADER: str(job.id)}
        raise
    if waited is None:  # nobody is left to read an answer
        return Response(status_code=499, headers={JOB_HEADER: str(job.id)})
    response = _outcome(request, audio, waited, res.settings.openai_max_wait_s)
    response.headers[JOB_HEADER] = str(job.id)
    return response


async def _forget(res: Resources, file_id: UUID, owner: str) -> None:
    try:
        await remove_file(res, file_id, owner)
    except Exception as exc:  # retention removes it in the end
        log.warning("upload of a refused call not removed", file_id=str(file_id), error=str(exc))


async def _wait_unless_gone(
    request: Request, res: Resources, job_id: UUID, owner: str
) -> JobRecord | None:
    """The job once terminal (or the wait is up); None if the client disconnected
    first: that stops the waiting, never the job."""
    waiting = asyncio.create_task(wait_for_job(res, job_id, owner, res.settings.openai_max_wait_s))
    gone = asyncio.create_task(_disconnected(request))
    try:
        await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not waiting.done():
            waiting.cancel()
            log.info("client went away; its job goes on", job_id=str(job_id))
    with contextlib.suppress(asyncio.CancelledError):
        return await waiting
    return None


async def _disconnected(request: Request) -> None:
    """Returns once the client has closed the connection (the body is already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _outcome(request: Request, audio: AudioRequest, job: JobRecord, waited_s: float) -> Response:
    """The answer for the job as it ended (or stands). An error here is about a job that
    was run: `x-should-retry: false` keeps the SDK from submitting the file again."""
    result, error = job.result, job.error
    code: str
    if job.status is JobStatus.COMPLETED and result is not None and not result.get("full_result"):
        rendered = render(audio, result)
        return Response(rendered.body, media_type=rendered.media_type)
    if job.status is JobStatus.COMPLETED and result is not None:
        code, status = ErrorCode.UNAVAILABLE, 503
        message = (
            f"job {job.id} completed, but its whole result could not be read for this answer "
            f"(larger than RESULT_INLINE_MAX_BYTES, or storage away): GET /v1/jobs/{job.id} "
            "gives it, or a link to it"
        )
    elif job.status is JobStatus.FAILED and error is not None:
        code, message, status = error.code, error.message, failure_status(error.code)
    elif job.status is JobStatus.CANCELLED:
        code, message, status = ErrorCode.CANCELLED, f"job {job.id} was cancelled", 400
    elif job.status is JobStatus.EXPIRED:
        code, message, status = ErrorCode.EXPIRED, f"job {job.id} expired", 400
    elif job.status.is_terminal:
        code, status = ErrorCode.INTERNAL, 500
        message = f"job {job.id} is {job.status} but says nothing more"
    else:
        code, status = "timeout", 504
        message = (
            f"job {job.id} is still {job.status} after {waited_s:.0f} s; it goes on: follow it "
            f"at /v1/jobs/{job.id} (or send an Idempotency-Key to pick it up again on retry)"
        )
    param = "file" if code in MEDIA_CODES else None
    return error_response(request, status, code, message, NO_RETRY, param)
