"""`jobs.events.>`: the ledger's event intake, one durable pull consumer, in batches.

A plain nats-py loop rather than a FastStream subscriber on purpose: a single `fetch`
returns at once with whatever is available (up to the batch size), so events are
folded within milliseconds when traffic is light and in large batches (one
transaction each) under load. FastStream's batch mode instead waits to fill the batch.
Messages are acked only after their transaction commits. Two batches are in flight
(`in_flight`): while one waits on PostgreSQL the next is fetched, parsed and stored, so
the ledger's one core and the database's work side by side. A batch locks its jobs
only after the batch before it holds its own (services/ledger/ingestion.py), so two
batches touching one job fold in the order they were fetched. Poison (services/ledger/
poison.py): an event that does not parse, or that the database refuses, is given up
(a dead letter) and its batch-mates are stored without it; NUL in text is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError

from contracts import JobEvent, first_error, parse_event, streams, subjects
from services.common.dead_letters import give_up
from services.common.logging import get_logger

from .. import poison
from ..adapters.pg import errors as pg_errors
from ..dispatcher import LEDGER_ORIGIN, ORIGIN_HEADER
from ..ledger import Ledger
from ..sanitise import without_nul

log = get_logger(__name__)
CONSUMER = streams.LEDGER_EVENTS_CONSUMER


class EventIntake:
    def __init__(
        self,
        js: JetStreamContext,
        ledger: Ledger,
        batch_size: int = 500,
        fetch_timeout_s: float = 2.0,
        in_flight: int = 2,
    ) -> None:
        self._js = js
        self._ledger = ledger
        self._batch_size = batch_size
        self._timeout = fetch_timeout_s
        self._in_flight = in_flight
        self._batches: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._running = False

    async def start(self) -> None:
        self._sub = await self._js.pull_subscribe(
            subjects.JOBS_EVENTS_ALL,
            durable=streams.LEDGER_EVENTS_CONSUMER,
            stream=streams.EVENTS_STREAM,
        )
        self._running = True
        self._task = asyncio.create_task(self._loop(), name="event-intake")

    async def stop(self) -> None:
        self._running = False
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Batches in flight finish: cancelled mid-transaction they would be redelivered
        # (and stored once all the same), but finishing is quicker for everyone.
        await asyncio.gather(*self._batches, return_exceptions=True)
        if self._sub:  # unsubscribe before the connection drains, or drain hangs
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _loop(self) -> None:
        sub = self._sub
        while self._running and sub is not None:
            try:
                msgs = await sub.fetch(self._batch_size, timeout=self._timeout)
            except TimeoutError:
                continue
            except Exception as exc:  # connection trouble: nats-py reconnects
                log.warning("event fetch failed", error=str(exc))
                await asyncio.sleep(1.0)
                continue
            try:
                while len(self._batches) >= self._in_flight:
                    await asyncio.wait(self._batches, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:  # stopping: hand the batch back at once
                for msg in msgs:
                    with contextlib.suppress(Exception):
                        await msg.nak()
                raise
            batch = asyncio.create_task(self._process_logged(msgs))
            self._batches.add(batch)
            batch.add_done_callback(self._batches.discard)

    async def _process_logged(self, msgs: list[Msg]) -> None:
        try:
            await self.process(msgs)
        except Exception:  # never the end of the intake: what is unacked comes back
            log.exception("event batch not processed", count=len(msgs))
            await asyncio.sleep(1.0)  # holds its place in flight: the intake slows down

    async def process(self, msgs: list[Msg]) -> None:
        batch: list[tuple[Msg, JobEvent]] = []
        for msg in msgs:
            if msg.headers and msg.headers.get(ORIGIN_HEADER) == LEDGER_ORIGIN:
                await msg.ack()  # stored when it was written to the outbox
                continue
            try:
                batch.append((msg, parse_event(without_nul(msg.data))))
            except ValidationError as exc:  # can never be folded: set aside for good
                await give_up(self._js, msg, CONSUMER, f"not a job event: {first_error(exc)}")
        if not batch:
            return
        try:
            await self._ledger.ingest([event for _, event in batch])
        except Exception as exc:
            if pg_errors.unavailable(exc):
                log.warning("event ingestion failed, will retry", error=str(exc), count=len(batch))
                for msg, _ in batch:
                    await msg.nak(delay=1.0)
                return
            # Something in the batch is refused: find it, keep the rest.
            log.warning("event batch refused, ingesting one at a time", error=str(exc))
            for msg, event in batch:
                await self._ingest_one(msg, event)
            return
        for msg, _ in batch:
            await msg.ack()

    async def _ingest_one(self, msg: Msg, event: JobEvent) -> None:
        try:
            await self._ledger.ingest([event])
        except Exception as exc:
            delivered = msg.metadata.num_delivered or 1
            decided = poison.verdict(
                unavailable=pg_errors.unavailable(exc),
                refused=pg_errors.refused(exc),
                delivered=delivered,
            )
            if decided is poison.Verdict.RETRY:
                await msg.nak(delay=poison.retry_delay_s(delivered))
            else:
                reason = f"refused by the ledger: {type(exc).__name__}: {exc}"
                await give_up(self._js, msg, CONSUMER, reason)
            return
        await msg.ack()
