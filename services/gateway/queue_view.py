"""GET /v1/queue: the ledger's counts by type, with what NATS knows beside them.

The ledger says what waits, runs and failed (its tables are the record); each worker
consumer says how many dispatched messages it has not handed out yet and how many are
out unacknowledged; the replicas bucket says which worker replicas are alive and what
model they run. NATS figures are best effort: an answer without them still counts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError, NoKeysError, NotFoundError

from contracts import JobType, TypeQueue, streams
from services.common.logging import get_logger

from .views import QueueOut, TypeQueueOut, WorkerPoolOut

log = get_logger(__name__)
WORKER_TYPES = [t for t in JobType if t is not JobType.BATCH]


async def consumer_backlog(nc: Client) -> dict[str, tuple[int, int]]:
    """Job type → (messages not yet delivered, delivered and unacknowledged)."""
    js = nc.jetstream()
    out: dict[str, tuple[int, int]] = {}
    for job_type in WORKER_TYPES:
        try:
            info = await js.consumer_info(
                streams.JOBS_STREAM, streams.worker_consumer_name(job_type)
            )
        except NotFoundError:  # no worker of this type has ever started
            continue
        out[job_type.value] = (info.num_pending or 0, info.num_ack_pending or 0)
    return out


async def worker_pools(nc: Client) -> list[WorkerPoolOut]:
    """One pool a job type, with every replica whose heartbeat is current."""
    js = nc.jetstream()
    try:
        kv = await js.key_value(streams.REPLICAS_KV)
        keys = await kv.keys()
    except (BucketNotFoundError, NotFoundError, NoKeysError):
        return []
    pools: dict[str, WorkerPoolOut] = {}
    for key in keys:
        parts = key.split(".", 2)
        if len(parts) != 3:  # not a replica key: not ours to count
            continue
        job_type = parts[1]
        try:
            entry = await kv.get(key)
        except (NotFoundError, KeyError):  # gone between listing and reading
            continue
        info = _replica(entry.value)
        pool = pools.setdefault(job_type, WorkerPoolOut(type=job_type, replicas=0))
        pool.replicas += 1
        pool.services = sorted({*pool.services, str(info.get("service", "?"))})
        for field, seen in (("model", pool.models), ("version", pool.versions)):
            value = info.get(field)
            if isinstance(value, str) and value not in seen:
                seen.append(value)
    return [pools[t] for t in sorted(pools)]


def _replica(raw: bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def queue_view(nc: Client, types: list[TypeQueue], dead_letters: int) -> QueueOut:
    try:
        backlog = await consumer_backlog(nc)
        pools = await worker_pools(nc)
        nats_ok = True
    except Exception as exc:  # NATS away for a moment: the ledger's counts still hold
        log.warning("queue view without NATS figures", error=str(exc))
        backlog, pools, nats_ok = {}, [], False
    by_type = {t.type: t for t in types}
    names = sorted({*by_type, *backlog})
    rows = []
    for name in names:
        counts = by_type.get(name) or TypeQueue(
            type=name, waiting=0, running=0, failed_recently=0, completed_recently=0
        )
        undelivered, unacked = backlog.get(name, (None, None))
        rows.append(
            TypeQueueOut(
                **counts.model_dump(), stream_undelivered=undelivered, stream_unacked=unacked
            )
        )
    return QueueOut(
        at=datetime.now(UTC),
        types=rows,
        pools=pools,
        dead_letters=dead_letters,
        nats_figures=nats_ok,
    )
