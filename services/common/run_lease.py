"""Run leases: at most one run of a job at a time across every replica.

JetStream redelivers a job whose acknowledgement is late (a replica stalled past
`ack_wait`: a long pause, a network partition) while the first run may still be going.
Before it runs a job a replica writes a lease under the job's key in the `RUNNING_KV`
bucket: who holds it and until when (`lease_s`, 1.5 x `ack_wait`), renewed on every
heartbeat. A delivery that finds a live lease does not run: it keeps its message
alive (`in_progress`, so no further redelivery uses up the job's attempts) and watches
— the job ends (ack), or the lease runs out because its holder died (the job runs on
this delivery, within 1.5 x `ack_wait` of the holder's last heartbeat). So a replica
that stalls for up to about 1.5 x `ack_wait` keeps its job and it runs once.

When the bucket cannot be reached the job runs: its outcome is still recorded once
(`contracts.outcome_event_id`).
"""

from __future__ import annotations

import contextlib
import json
import time
from uuid import UUID

from nats.js.errors import KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from contracts import streams

from .logging import get_logger

log = get_logger(__name__)


class RunLeases:
    def __init__(self, kv: KeyValue | None, holder: str, lease_s: float = 40.0) -> None:
        self._kv = kv
        self._holder = holder
        self.lease_s = lease_s
        self._mine: set[UUID] = set()

    def _value(self) -> bytes:
        return json.dumps({"holder": self._holder, "until": time.time() + self.lease_s}).encode()

    async def acquire(self, job_id: UUID) -> bool:
        """True if this replica may run the job now."""
        if job_id in self._mine:
            return False  # a second delivery to this very replica
        if self._kv is not None:
            try:
                await self._take(streams.run_lease_key(job_id))
            except KeyWrongLastSequenceError:
                return False  # a live lease, or another replica took it just now
            except Exception as exc:
                log.warning("run lease not taken; running anyway", error=str(exc))
        self._mine.add(job_id)
        return True

    async def _take(self, key: str) -> int:
        assert self._kv is not None
        try:
            return await self._kv.create(key, self._value())
        except KeyWrongLastSequenceError:
            try:
                entry = await self._kv.get(key)
            except (KeyNotFoundError, KeyDeletedError):  # released just now: take it afresh
                return await self._kv.create(key, self._value())
            if _until(entry.value) > time.time():
                raise
            # Its holder stopped renewing it: take it over (fails if someone else did).
            return await self._kv.update(key, self._value(), last=entry.revision)

    async def refresh(self, job_id: UUID) -> None:
        if self._kv is not None and job_id in self._mine:
            with contextlib.suppress(Exception):
                await self._kv.put(streams.run_lease_key(job_id), self._value())

    async def release(self, job_id: UUID) -> None:
        if job_id not in self._mine:
            return
        self._mine.discard(job_id)
        if self._kv is not None:
            with contextlib.suppress(Exception):  # it runs out in any case
                await self._kv.delete(streams.run_lease_key(job_id))


def _until(value: bytes | None) -> float:
    try:
        return float(json.loads(value or b"{}").get("until", 0.0))
    except (ValueError, AttributeError):
        return 0.0
