"""Pulling jobs one free slot at a time.

A replica has `slots` jobs at once, shared by every job type it handles. Each type's
puller takes a free slot first, then fetches one message from its durable consumer,
and runs it in a task that frees the slot when the job is settled. So a replica never
holds a message it has no slot for (another replica can take it), a job is
`processing` (its `JobStarted`) only once its work begins, and one slow job holds one
slot, not a whole fetched batch.

FastStream's pull subscriber fetches a batch and waits for all of it before fetching
again, hence this small loop on nats-py (as the ledger's event intake).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Literal

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from .logging import get_logger

log = get_logger(__name__)
Handle = Callable[[Msg], Awaitable[None]]


class SlotPuller:
    def __init__(
        self,
        js: JetStreamContext,
        stream: str,
        durable: str,
        handle: Handle,
        slots: JobSlots,
        fetch_timeout_s: float = 5.0,
    ) -> None:
        self._js = js
        self._stream = stream
        self._durable = durable
        self._handle = handle
        self._slots = slots
        self._timeout = fetch_timeout_s
        self._sub: JetStreamContext.PullSubscription | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._sub = await self._js.pull_subscribe_bind(self._durable, self._stream)
        self._loop_task = asyncio.create_task(self._pull(), name=f"pull {self._durable}")

    async def stop_pulling(self) -> None:
        """No new jobs; those in hand go on (see `wait_idle`)."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None

    async def wait_idle(self) -> None:
        """Returns once every job in hand is settled, then unsubscribes."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _pull(self) -> None:
        assert self._sub is not None
        while True:
            await self._slots.acquire()
            try:
                msgs = await self._sub.fetch(1, timeout=self._timeout)
            except (TimeoutError, NatsTimeoutError):
                self._slots.release()
                continue
            except asyncio.CancelledError:
                self._slots.release()
                raise
            except Exception as exc:  # connection trouble: nats-py reconnects
                self._slots.release()
                log.warning("job fetch failed", consumer=self._durable, error=str(exc))
                await asyncio.sleep(1.0)
                continue
            if not msgs:
                self._slots.release()
                continue
            self._slots.took()
            task = asyncio.create_task(self._run(msgs[0]))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, msg: Msg) -> None:
        try:
            await self._handle(msg)
        except Exception:
            log.exception("job handler failed", consumer=self._durable)
        finally:
            self._slots.settled()


class JobSlots(asyncio.Semaphore):
    """A replica's slots, shared by the job types it pulls, and the jobs it holds: a
    slot is taken before each fetch (`release` when the fetch brings nothing), a job is
    held from the moment its fetch brings it (`took`) until it is settled (`settled`)."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.held = 0

    def took(self) -> None:
        self.held += 1

    def settled(self) -> None:
        self.held -= 1
        self.release()


class DemandSlots(JobSlots):
    """Slots taken only while `wanted(held)` says the replica can use more work now (the
    transcriber: while its batches are not full). A replica that has enough leaves the
    rest of the queue to the others, however many slots it has free.

    `held` counts jobs from their fetch: counted once their handler had started, a
    burst of jobs was taken whole before the first showed in the replica's own figures.
    Not counted: a fetch still waiting (each idle job type has one open), so two types
    fetching at once may take one job more than wanted."""

    def __init__(self, value: int, wanted: Callable[[int], bool], poll_s: float = 0.05) -> None:
        super().__init__(value)
        self._wanted = wanted
        self._poll_s = poll_s

    async def acquire(self) -> Literal[True]:
        while True:
            await super().acquire()
            try:
                wanted = self._wanted(self.held)
            except BaseException:
                self.release()
                raise
            if wanted:
                return True
            self.release()
            await asyncio.sleep(self._poll_s)
