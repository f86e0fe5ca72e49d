"""`jobs.events.>`: the ledger's event intake, one durable pull consumer, in batches.

A plain nats-py loop rather than a FastStream subscriber on purpose: a single `fetch`
returns at once with whatever is available (up to the batch size), so events are
folded within milliseconds when traffic is light and in large batches (one
transaction each) under load. FastStream's batch mode instead waits to fill the batch.
Messages are acked only after their transaction commits.
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError

from contracts import JobEvent, parse_event, streams, subjects
from services.common.logging import get_logger

from ..dispatcher import LEDGER_ORIGIN, ORIGIN_HEADER
from ..ledger import Ledger

log = get_logger(__name__)


class EventIntake:
    def __init__(
        self,
        js: JetStreamContext,
        ledger: Ledger,
        batch_size: int = 500,
        fetch_timeout_s: float = 2.0,
    ) -> None:
        self._js = js
        self._ledger = ledger
        self._batch_size = batch_size
        self._timeout = fetch_timeout_s
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
            await self.process(msgs)

    async def process(self, msgs: list[Msg]) -> None:
        events: list[JobEvent] = []
        keep: list[Msg] = []
        for msg in msgs:
            if msg.headers and msg.headers.get(ORIGIN_HEADER) == LEDGER_ORIGIN:
                await msg.ack()  # stored when it was written to the outbox
                continue
            try:
                events.append(parse_event(msg.data))
                keep.append(msg)
            except ValidationError as exc:
                # An event that does not parse can never be folded: set it aside for good.
                log.warning("event rejected", subject=msg.subject, error=str(exc.errors()[0]))
                await msg.term()
        try:
            await self._ledger.ingest(events)
        except Exception as exc:
            log.warning("event ingestion failed, will retry", error=str(exc), count=len(events))
            for msg in keep:
                await msg.nak(delay=1.0)
            return
        for msg in keep:
            await msg.ack()
