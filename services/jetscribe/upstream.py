"""Submitting and following jobs straight on NATS, as an upstream system does (no
gateway): publish a `SubmitJob` on `jobs.submit`, read `jobs.events.<job_id>`.

    import nats
    from jetscribe import upstream
    from contracts import SubmitJob

    nc = await nats.connect("nats://127.0.0.1:4222")
    job_id = await upstream.submit(nc, SubmitJob(job_id=uuid4(), type="transcribe", file_id=f))
    async for event in upstream.follow(nc, job_id):
        print(event.kind)

`Nats-Msg-Id` is the submission's idempotency key (its job id when it has none): the
JOBS stream drops a repeat within its duplicate window, and the ledger keeps one job
per job id and key beyond it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from uuid import UUID

from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from contracts import (
    TERMINAL_KINDS,
    JobEvent,
    JobGetRequest,
    JobResponse,
    JobStatus,
    SubmitJob,
    parse_event,
    streams,
    subjects,
)

LEDGER_TIMEOUT_S = 2.0
SETTLE_S = 5.0


async def submit(nc: Client, command: SubmitJob, *, timeout: float = 5.0) -> UUID:
    """Publish the submission (JetStream-acknowledged) and return its job id."""
    msg_id = command.idempotency_key or str(command.job_id)
    await nc.jetstream().publish(
        subjects.JOBS_SUBMIT,
        command.model_dump_json().encode(),
        headers={"Nats-Msg-Id": msg_id},
        timeout=timeout,
    )
    return command.job_id


async def follow(
    nc: Client, job_id: UUID | str, *, owner: str = "default", idle_timeout: float | None = None
) -> AsyncIterator[JobEvent]:
    """The job's events from its first, until it is terminal.

    A `completed` event is not always the end: a pipeline's first step completes on the
    top-level job, which goes on with the next step. The ledger (the system of record)
    says which it is; if it does not answer, a terminal event ends the stream.
    `idle_timeout`: raise TimeoutError after this long without an event (None: wait).
    """
    sub = await nc.jetstream().subscribe(
        subjects.events_subject(job_id),
        stream=streams.EVENTS_STREAM,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    try:
        while True:
            msg = await sub.next_msg(timeout=idle_timeout)
            try:
                event = parse_event(msg.data)
            except ValidationError:  # a kind this client does not know
                continue
            yield event
            if event.kind in TERMINAL_KINDS and await _ended(nc, job_id, owner):
                return
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def _ended(nc: Client, job_id: UUID | str, owner: str) -> bool:
    """Whether a terminal-looking event ended the job. The ledger folds an event a moment
    after it is published, so it is asked until it agrees, or shows a pipeline whose
    first step just completed (the job goes on), for up to SETTLE_S."""
    request = JobGetRequest(job_id=UUID(str(job_id)), owner=owner).model_dump_json().encode()
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        try:
            reply = await nc.request(subjects.LEDGER_JOBS_GET, request, LEDGER_TIMEOUT_S)
            job = JobResponse.model_validate_json(reply.data).job
        except Exception:  # no ledger answer: the event is all there is to go on
            return True
        if job is None or job.status.is_terminal:
            return True
        if job.steps and job.steps[0].status is JobStatus.COMPLETED:
            return False
        await asyncio.sleep(0.05)
    return True
