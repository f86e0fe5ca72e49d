"""GET /v1/queue (operators) and GET /v1/job-types: what the console is built from."""

from __future__ import annotations

from fastapi import APIRouter

from contracts import OPTIONS_BY_TYPE, JobType

from ..queue_view import queue_view
from ..state import Owner, Res, ensure_operator
from ..views import JobTypeList, JobTypeOut, QueueOut

router = APIRouter(tags=["operations"])

TYPE_INFO: dict[JobType, tuple[str, str]] = {
    JobType.TRANSCRIBE: ("media", "Transcript with segment (and word) times, by Whisper."),
    JobType.GENERATE_SRT: ("media", "Subtitles (SRT or WebVTT) of the speech."),
    JobType.CONVERT: ("media", "Video/audio conversion; subtitle tracks or burnt-in text."),
    JobType.FIX_SRT: ("subtitles", "Subtitles corrected by an LLM, cue times kept."),
    JobType.TRANSLATE_SRT: ("subtitles", "Subtitles translated by an LLM, cue times kept."),
    JobType.SUMMARIZE: ("text", "A summary of a transcript or subtitles, by an LLM."),
}


@router.get("/v1/queue", response_model=QueueOut)
async def queue(res: Res, owner: Owner) -> QueueOut:
    """Per job type: waiting, running, failed and completed in the last hour, the oldest
    waiting job's age, and each worker consumer's backlog; the worker replicas alive and
    their models; the dead letters. Every tenant's jobs: operator tenants only."""
    ensure_operator(res, owner)
    stats = await res.ledger.queue_stats()
    return await queue_view(res.nc, stats.types, stats.dead_letters)


@router.get("/v1/job-types", response_model=JobTypeList)
async def job_types(_: Owner) -> JobTypeList:
    """Every type `POST /v1/jobs` takes, what its input must be, and the JSON Schema of
    its `options` (a client can build its form from it)."""
    return JobTypeList(
        items=[
            JobTypeOut(
                type=t.value,
                input=kind,
                description=text,
                options_schema=OPTIONS_BY_TYPE[t].model_json_schema(),
            )
            for t, (kind, text) in TYPE_INFO.items()
        ]
    )
