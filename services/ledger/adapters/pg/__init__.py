"""PostgreSQL through asyncpg: the only package of the ledger that writes SQL.

One module per table family (jobs, events, outbox, files, retention, cache, webhooks),
plus `fold` (the ingestion transaction) and `migrate`. Functions take a `Db` — the pool,
or a connection inside a transaction — and return typed rows (`..records`), never
asyncpg records.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Pool = asyncpg.Pool
Conn = asyncpg.Connection | PoolConnectionProxy  # a pool hands out proxies
Db = Pool | Conn  # anything that runs a statement


async def init_connection(conn: Conn) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def release_connection(conn: Conn) -> None:
    """Replaces asyncpg's per-release `RESET ALL ...` round trip: the ledger never leaves
    session state behind (no SET or LISTEN; the janitor's advisory lock is unlocked
    before release, see retention.janitor_turn); only a transaction left open by an
    error needs undoing."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, min_size: int, max_size: int) -> Pool:
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=init_connection, reset=release_connection
    )


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Conn]:
    """A connection in a transaction: committed on leaving, rolled back on an error."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn
