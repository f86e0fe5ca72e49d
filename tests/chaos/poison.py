"""Poison on every consumed subject: bytes that are no message, JSON that is no object,
objects with the wrong types, and an event PostgreSQL cannot hold (a NUL in its text)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import nats

from contracts import JobType, subjects

NOT_JSON = b"\xff\xfe not json at all {"
ARRAY = b'[1, "two", {"three": 3}]'
WORKER_TYPES = [t for t in JobType if t != JobType.BATCH]


def _wrong_types(extra: dict[str, object]) -> bytes:
    body: dict[str, object] = {"schema_version": 1, "job_id": 12345, "type": ["convert"]}
    return json.dumps({**body, **extra}).encode()


def _nul_event(job_id: str) -> bytes:
    """A valid JobProgressed for a real job whose message holds a NUL (\\u0000)."""
    return json.dumps(
        {
            "schema_version": 1,
            "kind": "progressed",
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "job_id": job_id,
            "attempt": 1,
            "progress": 0.5,
            "message": "half\u0000way",
        }
    ).encode()


def messages(job_id: str) -> list[tuple[str, bytes]]:
    """(subject, body) of every poison message; events go on a real job's own subject."""
    out = [(subjects.JOBS_SUBMIT, m) for m in (NOT_JSON, ARRAY, _wrong_types({"file_id": 7}))]
    for job_type in WORKER_TYPES:
        subject = subjects.run_subject(job_type)
        out += [(subject, NOT_JSON), (subject, ARRAY), (subject, _wrong_types({"input_key": 9}))]
    events = subjects.events_subject(job_id)
    wrong = json.dumps({"schema_version": 1, "kind": "progressed", "job_id": job_id,
                        "progress": "lots", "attempt": "first"}).encode()  # fmt: skip
    out += [(events, NOT_JSON), (events, ARRAY), (events, wrong), (events, _nul_event(job_id))]
    return out


async def _publish(nats_url: str, batch: list[tuple[str, bytes]]) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for subject, body in batch:
            await js.publish(subject, body, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await nc.drain()


def publish(nats_url: str, job_id: str) -> int:
    """Publish every poison message (JetStream-acked); returns how many."""
    batch = messages(job_id)
    asyncio.run(_publish(nats_url, batch))
    return len(batch)
