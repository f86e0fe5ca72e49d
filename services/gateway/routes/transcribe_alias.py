"""The seed's synchronous-era aliases: `POST /transcribe` and `GET /transcribe/{job_id}`.

`POST /transcribe` takes a multipart upload plus transcribe options as form fields
(`language`, `task`, `beam_size`, ... or one JSON `options` field) and answers 202
with the job id at once.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request

from contracts import ErrorCode, JobType, SubmitJob, TranscribeOptions

from ..errors import ApiError
from ..job_reads import not_expired
from ..state import Owner, Res
from ..stored_files import store_upload
from ..submissions import submit_job, validate_options
from ..views import TranscribeAccepted, TranscribeStatus
from ..waiting import current_job

router = APIRouter(tags=["seed aliases"])


def options_from_form(fields: dict[str, str]) -> dict[str, Any]:
    if "options" in fields:
        try:
            options = json.loads(fields["options"])
        except ValueError as exc:
            raise ApiError(422, ErrorCode.INVALID_OPTIONS, "options: not valid JSON") from exc
        except RecursionError as exc:  # "[[[[…" thousands deep: no options object either
            raise ApiError(422, ErrorCode.INVALID_OPTIONS, "options: nested too deeply") from exc
        if not isinstance(options, dict):
            raise ApiError(422, ErrorCode.INVALID_OPTIONS, "options: expected a JSON object")
        return options
    known = TranscribeOptions.model_fields
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ApiError(422, ErrorCode.INVALID_OPTIONS, f"options.{unknown[0]}: unknown option")
    return {k: v for k, v in fields.items() if v != ""}


@router.post("/transcribe", status_code=202, response_model=TranscribeAccepted)
async def transcribe(request: Request, res: Res, owner: Owner) -> TranscribeAccepted:
    uploaded, _ = await store_upload(request, res, owner)
    try:
        options = options_from_form(uploaded.fields)
        validate_options(JobType.TRANSCRIBE, options)
    except ApiError:
        await res.store.remove(uploaded.key)
        raise
    job = await submit_job(
        res,
        SubmitJob(
            job_id=uuid4(),
            type=JobType.TRANSCRIBE,
            file_id=uploaded.id,
            options=options,
            owner=owner,
        ),
    )
    return TranscribeAccepted(job_id=job.id, status=job.status, file_id=uploaded.id)


@router.get("/transcribe/{job_id}", response_model=TranscribeStatus)
async def transcribe_status(
    job_id: UUID, res: Res, owner: Owner, wait: Annotated[float, Query(ge=0)] = 0
) -> TranscribeStatus:
    job = not_expired(await current_job(res, job_id, owner, wait))
    return TranscribeStatus(
        job_id=job.id, status=job.status, language=job.language, result=job.result, error=job.error
    )
