"""Reading the system's own records: the JOB_EVENTS stream, the ledger's tables, the
bucket, and the state of every JetStream consumer. Nothing here judges; measure.py does."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import nats
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from pydantic import ValidationError

from contracts import parse_event, streams, subjects

from .world import World

TERMINAL_KINDS = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class StreamEvent:
    """One parsed event of JOB_EVENTS, with its stream sequence."""

    seq: int
    event_id: str
    job_id: str
    kind: str
    attempt: int
    occurred_at: float
    output_keys: tuple[str, ...] = ()
    error_code: str | None = None


@dataclass(frozen=True)
class ConsumerState:
    stream: str
    name: str
    pending: int
    ack_pending: int
    redelivered: int


@dataclass
class Records:
    events: list[StreamEvent] = field(default_factory=list)
    unparsed_events: int = 0  # messages on jobs.events.> that are no JobEvent (poison)
    pg_events: dict[str, str] = field(default_factory=dict)  # event_id -> job_id
    pg_status: dict[str, str] = field(default_factory=dict)  # job_id -> status
    pg_output_keys: dict[str, set[str]] = field(default_factory=dict)
    s3_keys: dict[str, set[str]] = field(default_factory=dict)  # job_id -> keys under jobs/
    consumers: list[ConsumerState] = field(default_factory=list)
    jobs_stream_messages: int = 0
    dead_letters: int | None = None  # rows of a dead-letter table, where the ledger has one


def _stream_event(seq: int, data: bytes) -> StreamEvent | None:
    try:
        event = parse_event(data)
    except (ValidationError, ValueError):
        return None
    outputs = tuple(o.object_key for o in getattr(event, "outputs", []) or [])
    whole = getattr(getattr(event, "result", None), "full_result", None)
    if whole is not None:  # a result too large for the message, stored by reference
        outputs += (whole.object_key,)
    error = getattr(event, "error", None)
    return StreamEvent(
        seq=seq,
        event_id=str(event.event_id),
        job_id=str(event.job_id),
        kind=event.kind,
        attempt=event.attempt,
        occurred_at=event.occurred_at.timestamp(),
        output_keys=outputs,
        error_code=str(error.code) if error is not None else None,
    )


async def read_events(js: JetStreamContext, records: Records) -> None:
    """Every message of JOB_EVENTS, in stream order (an ordered consumer from the start)."""
    info = await js.stream_info(streams.EVENTS_STREAM)
    total = info.state.messages
    if total == 0:
        return
    sub = await js.subscribe(
        subjects.JOBS_EVENTS_ALL, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    try:
        seen = 0
        while seen < total:
            try:
                msg = await sub.next_msg(timeout=5)
            except TimeoutError:
                break
            seen += 1
            seq = msg.metadata.sequence.stream if msg.metadata else seen
            event = _stream_event(seq, msg.data)
            if event is None:
                records.unparsed_events += 1
            else:
                records.events.append(event)
            if msg.metadata and msg.metadata.num_pending == 0:
                break
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def read_consumers(js: JetStreamContext, records: Records) -> None:
    for stream in (streams.JOBS_STREAM, streams.EVENTS_STREAM):
        for info in await js.consumers_info(stream):
            records.consumers.append(
                ConsumerState(
                    stream=stream,
                    name=info.name,
                    pending=int(info.num_pending or 0),
                    ack_pending=int(info.num_ack_pending or 0),
                    redelivered=int(info.num_redelivered or 0),
                )
            )
    records.jobs_stream_messages = (await js.stream_info(streams.JOBS_STREAM)).state.messages


async def read_ledger(database_url: str, job_ids: list[str], records: Records) -> None:
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        ids = list(job_ids)
        for row in await conn.fetch(
            "SELECT event_id::text, job_id::text FROM job_events WHERE job_id = ANY($1::uuid[])",
            ids,
        ):
            records.pg_events[row[0]] = row[1]
        for row in await conn.fetch(
            "SELECT id::text, status FROM jobs WHERE id = ANY($1::uuid[])", ids
        ):
            records.pg_status[row[0]] = row[1]
        for row in await conn.fetch(
            "SELECT job_id::text, object_key FROM files WHERE job_id = ANY($1::uuid[])", ids
        ):
            records.pg_output_keys.setdefault(row[0], set()).add(row[1])
        records.dead_letters = await _dead_letters(conn)
    finally:
        await conn.close()


async def _dead_letters(conn: Any) -> int | None:
    """Rows of the ledger's dead-letter table, if its schema has one (name contains 'dead')."""
    table = await conn.fetchval(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_name LIKE '%dead%' ORDER BY table_name LIMIT 1"
    )
    if table is None:
        return None
    return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))


async def read_bucket(world: World, records: Records) -> None:
    keys = await world.store().list_keys("jobs/")
    grouped: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        parts = key.split("/")
        if len(parts) >= 3:
            grouped[parts[1]].add(key)
    records.s3_keys = dict(grouped)


async def read_all(world: World, job_ids: Iterable[str]) -> Records:
    records = Records()
    nc = await nats.connect(world.nats_url, max_reconnect_attempts=5)
    try:
        js = nc.jetstream()
        await read_events(js, records)
        await read_consumers(js, records)
    finally:
        await nc.drain()
    await read_ledger(world.database_url, list(job_ids), records)
    await read_bucket(world, records)
    return records


def collect(world: World, job_ids: Iterable[str]) -> Records:
    return asyncio.run(read_all(world, job_ids))


async def _consumers(world: World) -> Records:
    records = Records()
    nc = await nats.connect(world.nats_url, max_reconnect_attempts=5)
    try:
        await read_consumers(nc.jetstream(), records)
    finally:
        await nc.drain()
    return records


def consumers(world: World) -> Records:
    """Only the consumers' and the JOBS stream's state (cheap, for polling)."""
    return asyncio.run(_consumers(world))
