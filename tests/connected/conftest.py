"""Fixtures of the connected tests: the ledger's use cases over real PostgreSQL and NATS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from nats.aio.client import Client

from contracts import FileRegisterRequest
from services.ledger.adapters.pg import init_connection
from services.ledger.adapters.pg.migrate import apply_migrations
from services.ledger.dispatcher import Dispatcher
from services.ledger.ledger import Ledger


@dataclass
class LedgerFixture:
    ledger: Ledger
    dispatcher: Dispatcher
    pool: asyncpg.Pool
    nc: Client


@pytest.fixture
async def ledger(database_url: str, nc: Client) -> AsyncIterator[LedgerFixture]:
    pool = await asyncpg.create_pool(database_url, init=init_connection, min_size=1, max_size=4)
    await apply_migrations(pool)
    dispatcher = Dispatcher(pool, nc.jetstream(), sweep_interval_s=0.2)
    await dispatcher.start()
    yield LedgerFixture(Ledger(pool, dispatcher), dispatcher, pool, nc)
    await dispatcher.stop()
    await pool.close()


async def register(fx: LedgerFixture) -> uuid.UUID:
    file_id = uuid.uuid4()
    await fx.ledger.register_file(
        FileRegisterRequest(
            file_id=file_id,
            object_key=f"files/{file_id}",
            filename="a.wav",
            content_type="audio/wav",
            size=10,
            owner="default",
        )
    )
    return file_id
