"""The job loop every worker shares: one `RunJob` from parse to ack.

    parse RunJob ── invalid ──────────────────────────► JobFailed(invalid_message), term
    cancelled already? (ask the ledger) ── yes ───────► ack, nothing else
    JobStarted → execute (heartbeats `in_progress`, throttled JobProgressed)
        ├── done ───────────────────────────────────► JobCompleted, then ack
        ├── PermanentError ──────────────────────────► JobFailed(code), term
        ├── cancelled (JobCancelled seen) ───────────► ack (the ledger recorded it)
        └── other error ── attempts left ───────────► JobRequeued, nak with backoff
                         └─ last attempt ────────────► JobFailed(retries_exhausted), term

The message is acked only after the terminal event is stored by JetStream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from faststream.nats import NatsMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import BaseModel, ValidationError

from contracts import (
    ErrorCode,
    ErrorInfo,
    JobCompleted,
    JobFailed,
    JobGetRequest,
    JobProgressed,
    JobRequeued,
    JobResponse,
    JobStarted,
    JobStatus,
    OutputFile,
    RunJob,
    subjects,
)

from . import tracing
from .errors import InvalidOptions, PermanentError
from .logging import get_logger
from .messaging import EventPublisher

log = get_logger(__name__)
WORKER_ID = socket.gethostname()
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class JobCancelledError(Exception):
    """Raised inside a job when the client cancelled it."""


@dataclass
class Outcome:
    result: BaseModel
    outputs: list[OutputFile] = field(default_factory=list)
    language: str | None = None


@dataclass
class WorkerPolicy:
    max_deliver: int = 5
    heartbeat_s: float = 10.0
    progress_min_interval_s: float = 0.25
    backoff_s: tuple[float, ...] = (2.0, 10.0, 30.0, 60.0)

    def backoff(self, attempt: int) -> float:
        return self.backoff_s[min(attempt - 1, len(self.backoff_s) - 1)]


class JobContext:
    """What a job handler sees: its command, attempt, progress reporting and cancel flag."""

    def __init__(
        self, run: RunJob, attempt: int, publisher: EventPublisher, policy: WorkerPolicy
    ) -> None:
        self.run = run
        self.attempt = attempt
        self._publisher = publisher
        self._policy = policy
        self._loop = asyncio.get_running_loop()
        self._cancel = asyncio.Event()
        self._latest: float | None = None
        self._sent = -1.0
        self._last_sent_at = 0.0
        self._progress_task: asyncio.Task[None] | None = None
        self.handed_back = False

    # Cancellation ------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def hand_back(self) -> None:
        """Stop the job to give it to another replica (shutdown), not because of a client."""
        self.handed_back = True
        self._cancel.set()

    def cancelled(self) -> bool:
        """Safe to call from any thread."""
        return self._cancel.is_set()

    def options(self, model: type[M]) -> M:
        """The command's options as `model`; invalid ones fail the job, naming the field."""
        try:
            return model.model_validate(self.run.options)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            where = f"options.{field}" if field else "options"
            raise InvalidOptions(f"{where}: {first['msg']}") from exc

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
        self._loop.call_soon_threadsafe(self._set_progress, value)

    def _set_progress(self, value: float) -> None:
        if value <= max(self._sent, self._latest or -1.0):
            return
        self._latest = value
        if self._progress_task is None or self._progress_task.done():
            self._progress_task = asyncio.create_task(self._send_progress())

    async def _send_progress(self) -> None:
        wait = self._policy.progress_min_interval_s - (time.monotonic() - self._last_sent_at)
        if wait > 0:
            await asyncio.sleep(wait)
        value, self._latest = self._latest, None
        if value is None or value <= self._sent:
            return
        self._sent = value
        self._last_sent_at = time.monotonic()
        with contextlib.suppress(Exception):  # progress is best-effort
            await self._publisher.publish(
                JobProgressed(
                    job_id=self.run.job_id,
                    attempt=self.attempt,
                    progress=round(value, 4),
                    correlation_id=self.run.correlation_id,
                )
            )

    async def complete_progress(self) -> None:
        """Publish progress 1.0 at once (no throttle), so whoever follows the job's events
        sees it reach the end just before `completed`."""
        if self._progress_task is not None and not self._progress_task.done():
            self._progress_task.cancel()
            with contextlib.suppress(BaseException):
                await self._progress_task
        if self._sent >= 1.0:
            return
        self._sent = 1.0
        with contextlib.suppress(Exception):
            await self._publisher.publish(
                JobProgressed(
                    job_id=self.run.job_id,
                    attempt=self.attempt,
                    progress=1.0,
                    correlation_id=self.run.correlation_id,
                )
            )


Execute = Callable[[JobContext], Awaitable[Outcome]]


Discard = Callable[[UUID], Awaitable[None]]


class JobRunner:
    """Runs one `RunJob` message through `execute` with the lifecycle above.

    `identity` names what produces this type's results (model, tool version): it goes
    into `JobCompleted.model` unless the result names its own model. `discard` deletes
    what a cancelled job may have written.
    """

    def __init__(
        self,
        nc: Client,
        publisher: EventPublisher,
        execute: Execute,
        policy: WorkerPolicy,
        job_type: str,
        on_outcome: Callable[[str, float], None] | None = None,
        identity: str | None = None,
        discard: Discard | None = None,
    ) -> None:
        self._nc = nc
        self._publisher = publisher
        self._execute = execute
        self._policy = policy
        self._job_type = job_type
        self._on_outcome = on_outcome or (lambda _o, _s: None)
        self._identity = identity
        self._discard = discard
        self._running: set[JobContext] = set()

    def hand_back_all(self) -> int:
        """Shutdown: stop every job in hand; each goes back to the stream (nak)."""
        for ctx in self._running:
            ctx.hand_back()
        return len(self._running)

    async def handle(self, msg: NatsMessage) -> None:
        raw = msg.raw_message
        # Under the trace of the request that made the job (its events carry it on).
        with tracing.span(f"run {self._job_type}", raw.headers or {}):
            await self._handle(msg)

    async def _handle(self, msg: NatsMessage) -> None:
        raw = msg.raw_message
        attempt = int(raw.metadata.num_delivered) if raw.metadata else 1
        try:
            run = RunJob.model_validate_json(raw.data)
        except ValidationError as exc:
            await self._reject_unparseable(raw.data, exc)
            await msg.reject()
            return

        bound = log.bind(
            job_id=str(run.job_id),
            attempt=attempt,
            subject=raw.subject,
            correlation_id=run.correlation_id,
        )
        if await self._already_cancelled(run):
            bound.info("job cancelled before start")
            await msg.ack()
            return

        ctx = JobContext(run, attempt, self._publisher, self._policy)
        started = time.monotonic()

        async def on_event(m: Msg) -> None:
            await self._on_event(m.data, ctx)

        watch = await self._nc.subscribe(subjects.events_subject(run.job_id), cb=on_event)
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        self._running.add(ctx)
        try:
            await self._publish(
                JobStarted(
                    job_id=run.job_id,
                    attempt=attempt,
                    worker=WORKER_ID,
                    correlation_id=run.correlation_id,
                )
            )
            bound.info("job started")
            outcome = await self._execute(ctx)
            if ctx.cancelled() and not ctx.handed_back:
                raise JobCancelledError  # finished just as the client cancelled: keep nothing
            await ctx.complete_progress()
            await self._publish(
                JobCompleted(
                    job_id=run.job_id,
                    attempt=attempt,
                    result=outcome.result,
                    outputs=outcome.outputs,
                    language=outcome.language,
                    model=getattr(outcome.result, "model", None) or self._identity,
                    correlation_id=run.correlation_id,
                )
            )
        except JobCancelledError:
            await self._discard_outputs(run, bound)
            if ctx.handed_back:
                await self._hand_back(msg, run, attempt, bound)
                self._on_outcome("handed_back", time.monotonic() - started)
                return
            bound.info("job cancelled while running")
            self._on_outcome("cancelled", time.monotonic() - started)
            await msg.ack()
        except PermanentError as exc:
            bound.warning("job failed", code=exc.code.value, error=exc.message)
            await self._fail(run, attempt, exc.info())
            self._on_outcome("failed", time.monotonic() - started)
            await msg.reject()
        except Exception as exc:
            await self._retry_or_fail(msg, run, attempt, exc, bound)
            self._on_outcome("retried", time.monotonic() - started)
        else:
            bound.info("job completed", seconds=round(time.monotonic() - started, 3))
            self._on_outcome("completed", time.monotonic() - started)
            await msg.ack()
        finally:
            self._running.discard(ctx)
            heartbeat.cancel()
            with contextlib.suppress(Exception):
                await watch.unsubscribe()

    async def _discard_outputs(self, run: RunJob, bound: Any) -> None:
        if self._discard is not None:
            try:
                await self._discard(run.job_id)
            except Exception as exc:  # retention removes it later in any case
                bound.warning("partial outputs not removed", error=str(exc))

    async def _hand_back(self, msg: NatsMessage, run: RunJob, attempt: int, bound: Any) -> None:
        bound.info("job handed back at shutdown")
        with contextlib.suppress(Exception):
            await self._publish(
                JobRequeued(
                    job_id=run.job_id,
                    attempt=attempt + 1,
                    error=ErrorInfo(
                        code=ErrorCode.UNAVAILABLE,
                        message=f"worker {WORKER_ID} shut down; the job runs again",
                    ),
                    correlation_id=run.correlation_id,
                )
            )
        await msg.nack(delay=0)

    async def _publish(self, event: Any) -> None:
        await self._publisher.publish(event)

    async def _fail(self, run: RunJob, attempt: int, error: ErrorInfo) -> None:
        await self._publish(
            JobFailed(
                job_id=run.job_id, attempt=attempt, error=error, correlation_id=run.correlation_id
            )
        )

    async def _retry_or_fail(
        self, msg: NatsMessage, run: RunJob, attempt: int, exc: Exception, bound: Any
    ) -> None:
        code = getattr(exc, "code", ErrorCode.INTERNAL)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        if attempt >= self._policy.max_deliver:
            bound.error("job failed after retries", error=message)
            error = ErrorInfo(
                code=ErrorCode.RETRIES_EXHAUSTED,
                message=f"gave up after {attempt} attempts; last error ({code}): {message}",
            )
            with contextlib.suppress(Exception):
                await self._fail(run, attempt, error)
            await msg.reject()
            return
        delay = self._policy.backoff(attempt)
        bound.warning("job will be retried", error=message, delay_s=delay)
        with contextlib.suppress(Exception):
            await self._publish(
                JobRequeued(
                    job_id=run.job_id,
                    attempt=attempt + 1,
                    error=ErrorInfo(code=str(code), message=message),
                    correlation_id=run.correlation_id,
                )
            )
        await msg.nack(delay=delay)

    async def _reject_unparseable(self, data: bytes, exc: ValidationError) -> None:
        job_id = _job_id_of(data)
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = f"unparseable RunJob: {where}: {first['msg']}" if where else first["msg"]
        log.warning("command rejected", job_id=str(job_id), error=message)
        if job_id is not None:
            with contextlib.suppress(Exception):
                await self._publish(
                    JobFailed(
                        job_id=job_id,
                        error=ErrorInfo(code=ErrorCode.INVALID_MESSAGE, message=message),
                    )
                )

    async def _already_cancelled(self, run: RunJob) -> bool:
        try:
            reply = await self._nc.request(
                subjects.LEDGER_JOBS_GET,
                JobGetRequest(job_id=run.job_id, owner=run.owner).model_dump_json().encode(),
                timeout=2.0,
            )
            job = JobResponse.model_validate_json(reply.data).job
        except Exception:
            return False  # the ledger is optional here: cancel is also watched while running
        return job is not None and job.status in (JobStatus.CANCELLED, JobStatus.EXPIRED)

    @staticmethod
    async def _on_event(data: bytes, ctx: JobContext) -> None:
        with contextlib.suppress(ValueError):
            if json.loads(data).get("kind") == "cancelled":
                ctx.cancel()

    async def _heartbeat(self, msg: NatsMessage) -> None:
        while True:
            await asyncio.sleep(self._policy.heartbeat_s)
            with contextlib.suppress(Exception):
                await msg.in_progress()


def _job_id_of(data: bytes) -> UUID | None:
    try:
        value = json.loads(data)
        return UUID(str(value.get("job_id"))) if isinstance(value, dict) else None
    except (ValueError, TypeError):
        return None
