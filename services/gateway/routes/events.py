"""GET /v1/jobs/{id}/events: the job's events as Server-Sent Events.

History first, then live events, until the job is terminal. Each event's `id` is its
JetStream sequence: a client that reconnects with `Last-Event-ID` resumes right after
it, with no gap and no repeat.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from contracts import ErrorCode

from ..errors import ApiError
from ..event_stream import event_frames
from ..job_reads import find_job
from ..state import Owner, Res

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
MAX_EVENT_ID = 2**63 - 1  # a JetStream sequence is a uint64; ids here stay within int64


def resume_point(last_event_id: str | None) -> int | None:
    """The sequence to resume from: right after `Last-Event-ID` (none: from the start).
    422 unless it is a decimal integer 0 <= id < 2**63, before the stream starts."""
    if not last_event_id:
        return None
    raw = last_event_id.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > MAX_EVENT_ID:
        raise ApiError(
            422,
            ErrorCode.INVALID_REQUEST,
            f"Last-Event-ID: not an event id (an integer from 0 to {MAX_EVENT_ID})",
        )
    return int(raw) + 1


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def job_events(
    job_id: UUID,
    res: Res,
    owner: Owner,
    last_event_id: Annotated[
        str | None,
        Header(description="Resume right after this event `id` (an integer, 0 to 2**63 - 1)."),
    ] = None,
    follow: Annotated[
        bool, Query(description="false: the events stored so far, then the stream ends.")
    ] = True,
) -> StreamingResponse:
    """`event:` is the kind (queued, started, progressed, completed, ...), `data:` the
    JobEvent as JSON, `id:` its sequence. Ends after the job's terminal event (with
    `follow=false`, after the last event stored so far)."""
    job = await find_job(res, job_id, owner)  # 404 before the stream starts
    return StreamingResponse(
        event_frames(res, job, owner, resume_point(last_event_id), live=follow),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
