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
from dataclasses import dataclass
from uuid import UUID

from nats.js.errors import KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from contracts import streams

from .logging import get_logger

log = get_logger(__name__)


@dataclass(eq=False)
class Lease:
    """One run's hold on a job: only the run that took it renews or releases it."""

    job_id: UUID
    revision: int = 0  # of the key in the bucket (0: none there, the bucket was away)
    released: bool = False


class RunLeases:
    def __init__(self, kv: KeyValue | None, holder: str, lease_s: float = 40.0) -> None:
        self._kv = kv
        self._holder = holder
        self.lease_s = lease_s
        self._mine: dict[UUID, Lease] = {}

    def _value(self) -> bytes:
        return json.dumps({"holder": self._holder, "until": time.time() + self.lease_s}).encode()

    async def acquire(self, job_id: UUID) -> Lease | None:
        """The run's lease, or None when another run holds the job."""
        if job_id in self._mine:
            return None  # a second delivery to this very replica
        lease = Lease(job_id)
        if self._kv is not None:
            try:
                lease.revision = await self._take(streams.run_lease_key(job_id))
            except KeyWrongLastSequenceError:
                return None  # a live lease, or another replica took it just now
            except Exception as exc:
                log.warning("run lease not taken; running anyway", error=str(exc))
        self._mine[job_id] = lease
        return lease

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

    async def refresh(self, lease: Lease) -> None:
        """Renew the lease — only if it is still this run's (a holder that stalled past
        its lease and was taken over must not overwrite its successor's)."""
        if self._kv is None or lease.released or not lease.revision:
            return
        try:
            key = streams.run_lease_key(lease.job_id)
            lease.revision = await self._kv.update(key, self._value(), last=lease.revision)
        except KeyWrongLastSequenceError:
            log.warning("run lease lost to another run", job_id=str(lease.job_id))
            lease.revision = 0
        except Exception:
            pass  # NATS away: the next heartbeat tries again

    async def release(self, lease: Lease) -> None:
        if lease.released:
            return
        lease.released = True
        if self._mine.get(lease.job_id) is lease:
            del self._mine[lease.job_id]
        if self._kv is not None and lease.revision:
            with contextlib.suppress(Exception):  # it runs out in any case
                await self._kv.delete(streams.run_lease_key(lease.job_id), last=lease.revision)


def _until(value: bytes | None) -> float:
    try:
        return float(json.loads(value or b"{}").get("until", 0.0))
    except (ValueError, AttributeError):
        return 0.0
