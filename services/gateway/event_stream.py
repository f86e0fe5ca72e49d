"""A job's events as Server-Sent Events frames: history, then live, until terminal.

History comes from an ordered JetStream consumer on `jobs.events.<id>`. Each frame's
`id` is the event's JetStream sequence, so a client resuming after one (`start`) gets
no gap and no repeat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts import JobRecord, streams, subjects
from contracts.raw import event_kind

from .job_reads import find_job
from .state import Resources
from .waiting import TERMINAL_KINDS, settled

KEEPALIVE_S = 15.0
HISTORY_WAIT_S = 2.0  # a history-only read: how long the first stored event may take


async def event_frames(
    res: Resources, job: JobRecord, owner: str, start: int | None, live: bool = True
) -> AsyncIterator[bytes]:
    """The SSE frames of the job's events from sequence `start` (all without one);
    without `live`, only those already stored (the stream ends once caught up)."""
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
                msg = await sub.next_msg(timeout=tick if live else HISTORY_WAIT_S)
            except TimeoutError:
                if not live:  # nothing stored after `start`
                    return
                job = await find_job(res, job.id, owner)
                if job.status.is_terminal and sub.pending_msgs == 0:
                    # The stream holds no terminal event (its history has aged out of
                    # JetStream): the job's stored state ends the stream instead.
                    yield frame(None, "snapshot", job.model_dump_json())
                    return
                yield b": keepalive\n\n"
                continue
            kind = event_kind(msg.data) or "message"
            yield frame(msg.metadata.sequence.stream, kind, msg.data.decode())
            if not live and msg.metadata.num_pending == 0:
                return
            if kind in TERMINAL_KINDS and msg.metadata.num_pending == 0:
                job = await settled(res, job.id, owner, job, find_job)
                if job.status.is_terminal:
                    return
    finally:
        await sub.unsubscribe()


def frame(seq: int | None, kind: str, data: str) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n".encode()
