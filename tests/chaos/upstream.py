"""Submissions the way an upstream system makes them: `SubmitJob` on `jobs.submit`, with
its idempotency key as `Nats-Msg-Id` (no gateway, no ledger needed to accept them)."""

from __future__ import annotations

import asyncio
import uuid

import nats

from contracts import JobType, SubmitJob, subjects


async def _publish(nats_url: str, file_id: str, job_type: JobType, n: int) -> list[str]:
    nc = await nats.connect(nats_url)
    ids = []
    try:
        js = nc.jetstream()
        for _ in range(n):
            job_id = uuid.uuid4()
            body = SubmitJob(job_id=job_id, type=job_type, file_id=uuid.UUID(file_id), cache=False)
            await js.publish(
                subjects.JOBS_SUBMIT,
                body.model_dump_json().encode(),
                headers={"Nats-Msg-Id": f"chaos-{job_id}"},
            )
            ids.append(str(job_id))
    finally:
        await nc.drain()
    return ids


def submit(nats_url: str, file_id: str, n: int, job_type: JobType = JobType.FIX_SRT) -> list[str]:
    """N jobs JetStream-acked on jobs.submit; returns their ids."""
    return asyncio.run(_publish(nats_url, file_id, job_type, n))
