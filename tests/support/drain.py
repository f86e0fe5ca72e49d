"""Queue many jobs while no worker runs, let a worker drain them, count what the ledger
holds: shared by tests/e2e/test_drain.py (exact counts) and the drain benchmark
(per-job cost at 100, 1,000 and 10,000 jobs)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import nats

from contracts import streams

TERMINAL = ("completed", "failed", "cancelled", "expired")


async def submit_many(
    gateway_url: str, body: dict[str, Any], total: int, concurrency: int = 16
) -> list[str]:
    """`total` jobs of `body` through the REST API, `concurrency` at a time; every one
    must be accepted (202)."""
    numbers = itertools.count()
    ids: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while next(numbers) < total:
            r = await client.post("/v1/jobs", json=body)
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])

    async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return ids


@dataclass
class DrainCounts:
    jobs: int
    by_status: dict[str, int]
    events: dict[str, int]  # kind -> rows in job_events
    jobs_with: dict[str, int]  # kind -> distinct jobs with such an event
    first_started: datetime | None
    last_finished: datetime | None

    @property
    def drain_s(self) -> float:
        """First job started to last job finished, by the events' own times."""
        if self.first_started is None or self.last_finished is None:
            return 0.0
        return (self.last_finished - self.first_started).total_seconds()


async def ledger_counts(database_url: str, job_ids: list[str]) -> DrainCounts:
    conn = await asyncpg.connect(database_url)
    try:
        statuses = await conn.fetch(
            "SELECT status, count(*) AS n FROM jobs WHERE id = ANY($1::uuid[]) GROUP BY status",
            job_ids,
        )
        kinds = await conn.fetch(
            "SELECT kind, count(*) AS n, count(DISTINCT job_id) AS jobs,"
            " min(occurred_at) AS first, max(occurred_at) AS last"
            " FROM job_events WHERE job_id = ANY($1::uuid[]) GROUP BY kind",
            job_ids,
        )
    finally:
        await conn.close()
    by_kind = {r["kind"]: r for r in kinds}
    finished = [by_kind[k]["last"] for k in TERMINAL if k in by_kind]
    return DrainCounts(
        jobs=sum(r["n"] for r in statuses),
        by_status={r["status"]: r["n"] for r in statuses},
        events={r["kind"]: r["n"] for r in kinds},
        jobs_with={r["kind"]: r["jobs"] for r in kinds},
        first_started=by_kind["started"]["first"] if "started" in by_kind else None,
        last_finished=max(finished) if finished else None,
    )


async def wait_drained(database_url: str, job_ids: list[str], timeout_s: float) -> float:
    """Seconds until every job is terminal in the ledger (polled every 0.2 s)."""
    started = time.monotonic()
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            done = await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE id = ANY($1::uuid[]) AND status = ANY($2)",
                job_ids,
                list(TERMINAL),
            )
            if done == len(job_ids):
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"{done}/{len(job_ids)} jobs terminal after {timeout_s}s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def commands_left(nats_url: str, job_type: str) -> tuple[int, int]:
    """(pending, unacknowledged) commands of the worker's consumer on JetStream."""
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info(
            streams.JOBS_STREAM, streams.worker_consumer_name(job_type)
        )
        return int(info.num_pending), int(info.num_ack_pending)
    finally:
        await nc.close()
