"""GET /v1/jobs/{id}/events: the job's events as Server-Sent Events.

History first, then live events, until the job is terminal. Each event's `id` is its
JetStream sequence: a client that reconnects with `Last-Event-ID` resumes right after
it, with no gap and no repeat.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from ..errors import ApiError
from ..event_stream import event_frames
from ..job_reads import find_job
from ..state import Owner, Res

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def job_events(
    job_id: UUID,
    res: Res,
    owner: Owner,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """`event:` is the kind (queued, started, progressed, completed, ...), `data:` the
    JobEvent as JSON, `id:` its sequence. Ends after the job's terminal event."""
    job = await find_job(res, job_id, owner)  # 404 before the stream starts
    start = None
    if last_event_id:
        try:
            start = int(last_event_id) + 1
        except ValueError as exc:
            raise ApiError(422, "invalid_request", "Last-Event-ID: not an event id") from exc
    return StreamingResponse(
        event_frames(res, job, owner, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
