"""Run leases: at most one run of a job at a time across every replica.

JetStream redelivers a job whose acknowledgement is late (a replica stalled past
`ack_wait`, a network partition) while the first run may still be going. Before it
runs a job a replica creates the job's key in the `RUNNING_KV` bucket; the key exists
only while its holder keeps refreshing it (each heartbeat) and expires
`RUN_LEASE_TTL_S` after its holder died. A delivery that finds the key taken does not
run: it leaves the message to the holder, whose ack or nak settles it (or, if the
holder is gone, JetStream delivers it again once the lease has expired).

When the bucket cannot be reached the job runs: its outcome is still recorded once
(`contracts.outcome_event_id`).
"""

from __future__ import annotations

import contextlib
from uuid import UUID

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from contracts import streams

from .logging import get_logger

log = get_logger(__name__)


class RunLeases:
    def __init__(self, kv: KeyValue | None, holder: str) -> None:
        self._kv = kv
        self._holder = holder.encode()
        self._mine: set[UUID] = set()

    async def acquire(self, job_id: UUID) -> bool:
        """True if this replica may run the job now."""
        if job_id in self._mine:
            return False  # a second delivery to this very replica
        if self._kv is not None:
            try:
                await self._kv.create(streams.run_lease_key(job_id), self._holder)
            except KeyWrongLastSequenceError:
                return False
            except Exception as exc:
                log.warning("run lease not taken; running anyway", error=str(exc))
        self._mine.add(job_id)
        return True

    async def refresh(self, job_id: UUID) -> None:
        if self._kv is not None and job_id in self._mine:
            with contextlib.suppress(Exception):
                await self._kv.put(streams.run_lease_key(job_id), self._holder)

    async def release(self, job_id: UUID) -> None:
        if job_id not in self._mine:
            return
        self._mine.discard(job_id)
        if self._kv is not None:
            with contextlib.suppress(Exception):  # it expires in any case
                await self._kv.delete(streams.run_lease_key(job_id))
