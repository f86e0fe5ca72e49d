"""Jobs in flight and waiting on them, read from the ledger's own table (PostgreSQL).

Polling tolerates outages: while the database is down a poll answers None."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import asyncpg

TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})


async def _statuses(database_url: str, job_ids: list[str]) -> Counter[str]:
    conn = await asyncpg.connect(database_url, timeout=3)
    try:
        rows = await conn.fetch(
            "SELECT status, count(*) FROM jobs WHERE id = ANY($1::uuid[]) GROUP BY status",
            job_ids,
        )
    finally:
        await conn.close()
    counts: Counter[str] = Counter({str(r[0]): int(r[1]) for r in rows})
    counts["missing"] = len(job_ids) - sum(counts.values())
    return counts


def statuses(database_url: str, job_ids: list[str]) -> Counter[str] | None:
    """Jobs per status ('missing': no row yet), or None when the database does not answer."""
    try:
        return asyncio.run(_statuses(database_url, job_ids))
    except (OSError, asyncpg.PostgresError, TimeoutError, asyncpg.InterfaceError):
        return None


def terminal_count(counts: Counter[str]) -> int:
    return sum(n for status, n in counts.items() if status in TERMINAL)


def wait_for(
    database_url: str, job_ids: list[str], at_least: int, of: frozenset[str], timeout: float
) -> bool:
    """Until `at_least` jobs are in one of the statuses `of` (False when time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = statuses(database_url, job_ids)
        if counts is not None and sum(counts[s] for s in of) >= at_least:
            return True
        time.sleep(0.25)
    return False


def wait_running(database_url: str, job_ids: list[str], at_least: int = 1) -> bool:
    """Until work is in flight: `at_least` jobs processing (or already past it)."""
    return wait_for(
        database_url, job_ids, at_least, frozenset({"processing"}) | TERMINAL, timeout=120
    )


def wait_terminal(database_url: str, job_ids: list[str], timeout: float) -> bool:
    """Until every job is terminal; False when `timeout` runs out first (the rest: lost)."""
    return wait_for(database_url, job_ids, len(job_ids), TERMINAL, timeout)
