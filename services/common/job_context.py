"""What a job handler sees and returns: `JobContext` (command, attempt, options,
progress, cancel flag), `Outcome`, and `JobCancelledError` to stop on a cancel."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from contracts import JobEventBase, JobProgressed, OutputFile, RunJob, first_error

from .errors import InvalidOptions
from .worker_policy import WorkerPolicy

T = TypeVar("T")
PROGRESS_PUBLISH_TIMEOUT_S = 2.0
M = TypeVar("M", bound=BaseModel)


class EventSink(Protocol):
    """Where a job's events go (the NATS adapter's `EventPublisher` in a worker)."""

    async def publish(self, event: JobEventBase, timeout: float = 10.0) -> None: ...


class JobCancelledError(Exception):
    """Raised inside a job when the client cancelled it."""


@dataclass
class Outcome:
    result: BaseModel
    outputs: list[OutputFile] = field(default_factory=list)
    language: str | None = None


class Progress:
    """Progress (0 to 1) as `JobProgressed` events: throttled, never going down, and none
    once stopped (the job was cancelled or its run ended), so a throttled or late report
    never lands in the job's history after its outcome."""

    def __init__(
        self, run: RunJob, attempt: int, publisher: EventSink, min_interval_s: float
    ) -> None:
        self._run = run
        self._attempt = attempt
        self._publisher = publisher
        self._min_interval_s = min_interval_s
        self._latest: float | None = None
        self._sent = -1.0
        self._last_sent_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def set(self, value: float) -> None:
        """Record a value (on the event loop); the event follows within the throttle."""
        if self._stopped or value <= max(self._sent, self._latest or -1.0):
            return
        self._latest = value
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send_latest())

    async def _send_latest(self) -> None:
        wait = self._min_interval_s - (time.monotonic() - self._last_sent_at)
        if wait > 0:
            await asyncio.sleep(wait)
        value, self._latest = self._latest, None
        if self._stopped or value is None or value <= self._sent:
            return
        self._sent = value
        self._last_sent_at = time.monotonic()
        await self._publish(round(value, 4))

    def stop(self) -> None:
        """No more throttled events: one waiting for its turn is dropped."""
        self._stopped = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def complete(self) -> None:
        """Publish 1.0 at once (no throttle), so whoever follows the job's events sees it
        reach the end just before `completed`."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self._sent >= 1.0:
            return
        self._sent = 1.0
        await self._publish(1.0)

    async def _publish(self, value: float) -> None:
        # Best-effort, and never holding the job up for long while NATS is away.
        with contextlib.suppress(Exception):
            await self._publisher.publish(
                JobProgressed(
                    job_id=self._run.job_id,
                    attempt=self._attempt,
                    progress=value,
                    correlation_id=self._run.correlation_id,
                ),
                timeout=PROGRESS_PUBLISH_TIMEOUT_S,
            )


class JobContext:
    """What a job handler sees: its command, attempt, progress reporting and cancel flag."""

    def __init__(
        self, run: RunJob, attempt: int, publisher: EventSink, policy: WorkerPolicy
    ) -> None:
        self.run = run
        self.attempt = attempt
        self._loop = asyncio.get_running_loop()
        self._cancel = asyncio.Event()
        self._progress = Progress(run, attempt, publisher, policy.progress_min_interval_s)
        self.handed_back = False

    # Cancellation ------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()
        self._progress.stop()  # the engine may report once more before it sees the flag

    def hand_back(self) -> None:
        """Stop the job to give it to another replica (shutdown), not because of a client."""
        self.handed_back = True
        self._cancel.set()
        self._progress.stop()

    def cancelled(self) -> bool:
        """Safe to call from any thread."""
        return self._cancel.is_set()

    def options(self, model: type[M]) -> M:
        """The command's options as `model`; invalid ones fail the job, naming the field."""
        try:
            return model.model_validate(self.run.options)
        except ValidationError as exc:
            raise InvalidOptions(first_error(exc, "options")) from exc

    async def cancellable(self, work: Awaitable[T]) -> T:
        """Await `work`, cancelling it (and whatever it awaits) as soon as the job is cancelled."""
        task = asyncio.ensure_future(work)
        while not task.done():
            await asyncio.wait({task}, timeout=0.2)
            if self.cancelled() and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                raise JobCancelledError
        return task.result()

    # Progress ----------------------------------------------------------------------------
    def report_progress(self, value: float) -> None:
        """Record progress (0 to 1) from any thread; events are throttled and never go down."""
        self._loop.call_soon_threadsafe(self._progress.set, value)

    def stop_progress(self) -> None:
        """The run has its outcome: reports from here on publish nothing."""
        self._progress.stop()

    async def complete_progress(self) -> None:
        """Progress 1.0 at once, just before the job's `completed`."""
        await self._progress.complete()


Execute = Callable[[JobContext], Awaitable[Outcome]]
