"""GET /v1/jobs/{id}/events: the job's events as Server-Sent Events.

History first (an ordered JetStream consumer on `jobs.events.<id>`), then live events,
until the job is terminal. Each event's `id` is its JetStream sequence: a client that
reconnects with `Last-Event-ID` resumes right after it, with no gap and no repeat.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts import JobRecord, streams, subjects

from ..errors import ApiError
from ..state import Owner, Res, Resources
from .jobs import TERMINAL_KINDS, find_job, settled

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
KEEPALIVE_S = 15.0


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
        _stream(res, job, owner, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    res: Resources, job: JobRecord, owner: str, start: int | None
) -> AsyncIterator[bytes]:
    config = (
        ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
        if start
        else ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    sub = await res.nc.jetstream().subscribe(
        subjects.events_subject(job.id),
        stream=streams.EVENTS_STREAM,
        ordered_consumer=True,
        config=config,
    )
    try:
        while True:
            # Short ticks once the job looks finished: they close the stream soon after.
            tick = 1.0 if job.status.is_terminal else KEEPALIVE_S
            try:
                msg = await sub.next_msg(timeout=tick)
            except TimeoutError:
                job = await find_job(res, job.id, owner)
                if job.status.is_terminal and sub.pending_msgs == 0:
                    # The stream holds no terminal event (its history has aged out of
                    # JetStream): the job's stored state ends the stream instead.
                    yield _frame(None, "snapshot", job.model_dump_json())
                    return
                yield b": keepalive\n\n"
                continue
            kind = _kind(msg.data)
            yield _frame(msg.metadata.sequence.stream, kind, msg.data.decode())
            if kind in TERMINAL_KINDS and msg.metadata.num_pending == 0:
                job = await settled(res, job.id, owner, job, find_job)
                if job.status.is_terminal:
                    return
    finally:
        await sub.unsubscribe()


def _frame(seq: int | None, kind: str, data: str) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n".encode()


def _kind(data: bytes) -> str:
    try:
        value = json.loads(data)
    except ValueError:
        return "message"
    return str(value.get("kind", "message")) if isinstance(value, dict) else "message"
