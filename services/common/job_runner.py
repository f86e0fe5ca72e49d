"""The job loop every worker shares: one `RunJob` from parse to ack.

    parse RunJob ── invalid ──────────────────────────► JobFailed(invalid_message), term
    ended already? (the ledger, then the events stream) ► ack, nothing else
    running already? (run lease held elsewhere) ──────► left to the run holding it
    JobStarted → execute (heartbeats `in_progress`, throttled JobProgressed)
        ├── done ───────────────────────────────────► JobCompleted, then ack
        ├── PermanentError ──────────────────────────► JobFailed(code), term
        ├── cancelled (JobCancelled seen) ───────────► ack (the ledger recorded it)
        └── other error ── attempts left ───────────► JobRequeued, nak with backoff
                         └─ last attempt ────────────► JobFailed(retries_exhausted), term

The message is acked only after the terminal event is stored by JetStream. A job's
outcome (`completed` or `failed`) has one `event_id` per job (`outcome_event_id`), and
a publish of it that times out is repeated, not taken for a failure
(`outcome_publish`): a job runs to one outcome even across a NATS outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import ValidationError

from contracts import (
    ErrorCode,
    ErrorInfo,
    JobCompleted,
    JobFailed,
    JobRequeued,
    JobStarted,
    RunJob,
    first_error,
    outcome_event_id,
    streams,
    subjects,
)
from contracts.raw import event_kind
from contracts.raw import job_id as named_job_id
from contracts.validation import first_field

from . import tracing
from .admission import input_key_problem, ledger_says_skip, stream_says_done
from .dead_letters import give_up
from .errors import PermanentError
from .job_context import EventSink, Execute, JobCancelledError, JobContext
from .logging import get_logger
from .outcome_publish import publish_until_stored
from .result_offload import ResultOffload
from .run_lease import Lease, RunLeases
from .worker_policy import WorkerPolicy

log = get_logger(__name__)
WORKER_ID = socket.gethostname()

Discard = Callable[[UUID], Awaitable[None]]
OnOutcome = Callable[[str, float], None]


@dataclass
class Delivery:
    """One delivery of a parsed `RunJob`: the message, its attempt and its log context."""

    msg: Msg
    run: RunJob
    attempt: int
    log: Any
    lease: Lease
    started: float = field(default_factory=time.monotonic)

    def seconds(self) -> float:
        return time.monotonic() - self.started


class JobRunner:
    """Runs one `RunJob` message through `execute` with the lifecycle above.

    `identity` names what produces this type's results (model, tool version): it goes
    into `JobCompleted.model` unless the result names its own model. `discard` deletes
    what a cancelled job may have written. `on_outcome` hears each job's outcome and
    duration (metrics).
    """

    def __init__(
        self,
        nc: Client,
        publisher: EventSink,
        execute: Execute,
        policy: WorkerPolicy,
        job_type: str,
        *,
        on_outcome: OnOutcome | None = None,
        identity: str | None = None,
        discard: Discard | None = None,
        leases: RunLeases | None = None,
        offload: ResultOffload | None = None,
    ) -> None:
        self._nc = nc
        self._publisher = publisher
        self._execute = execute
        self._policy = policy
        self._job_type = job_type
        self._on_outcome = on_outcome or (lambda _o, _s: None)
        self._identity = identity
        self._discard = discard
        self._leases = leases or RunLeases(None, WORKER_ID)
        self._offload = offload or ResultOffload(None, 1 << 62)
        self._running: set[JobContext] = set()
        self._stopping = False

    def hand_back_all(self) -> int:
        """Shutdown: stop every job in hand; each goes back to the stream (nak). A
        delivery still waiting for a lease holder goes back too, and none starts."""
        self._stopping = True
        for ctx in self._running:
            ctx.hand_back()
        return len(self._running)

    async def handle(self, msg: Msg) -> None:
        # Under the trace of the request that made the job (its events carry it on).
        with tracing.span(f"run {self._job_type}", msg.headers or {}):
            await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        raw = msg  # the bytes as sent: parsed here, never bound by a framework
        attempt = int(raw.metadata.num_delivered) if raw.metadata else 1
        try:
            run = RunJob.model_validate_json(raw.data)
        except ValidationError as exc:
            reason = await self._reject_unparseable(raw.data, exc)
            await self._give_up(msg, reason)
            return
        bound = log.bind(
            job_id=str(run.job_id),
            attempt=attempt,
            subject=raw.subject,
            correlation_id=run.correlation_id,
        )
        problem = input_key_problem(run.input_key)
        if problem is not None:
            bound.warning("command rejected", error=problem)
            await self._fail(
                run, attempt, ErrorInfo(code=ErrorCode.INVALID_MESSAGE, message=problem)
            )
            await self._give_up(msg, problem)
            return
        skip = await ledger_says_skip(self._nc, run) or await stream_says_done(
            self._nc.jetstream(), run.job_id
        )
        if skip is not None:
            bound.info("job not run", reason=skip.reason)
            await (self._give_up(msg, skip.reason) if skip.terminate else msg.ack())
            return
        if attempt > self._policy.max_deliver:  # every attempt ended without an outcome
            await self._exhausted(run, attempt, msg, bound)
            return
        lease = await self._leases.acquire(run.job_id) or await self._await_holder(msg, run, bound)
        if lease is None:
            return
        try:
            if self._stopping:  # shutting down: another replica takes it at once
                await msg.nak(delay=0)
                return
            await self._run(Delivery(msg, run, attempt, bound, lease))
        finally:
            await self._leases.release(lease)

    async def _exhausted(self, run: RunJob, attempt: int, msg: Msg, bound: Any) -> None:
        """The consumer redelivers without bound, so that a job whose every attempt was
        cut short (the worker killed each time: out of memory on this input) still ends."""
        tries = self._policy.max_deliver
        message = f"gave up after {tries} attempts; none ended (the worker stopped or was killed)"
        bound.error("job failed after retries", error=message)
        error = ErrorInfo(code=ErrorCode.RETRIES_EXHAUSTED, message=message)
        await self._fail(run, min(attempt, tries), error)
        await msg.term()

    async def _await_holder(self, msg: Msg, run: RunJob, bound: Any) -> Lease | None:
        """Another run holds the job's lease (this delivery came while it runs): keep
        this delivery alive — no redelivery burns the job's attempts — until the job
        ends (ack: done) or its holder is gone (its lease: run it with this delivery)."""
        bound.warning("job is running already (delivered again): waiting, not running it twice")
        deadline = time.monotonic() + self._leases.lease_s + self._policy.heartbeat_s * 3
        while time.monotonic() < deadline and not self._stopping:
            await asyncio.sleep(self._policy.heartbeat_s)
            with contextlib.suppress(Exception):
                await msg.in_progress()
            if await stream_says_done(self._nc.jetstream(), run.job_id) is not None:
                await msg.ack()
                return None
            if lease := await self._leases.acquire(run.job_id):
                bound.info("the job's other run is gone: running it")
                return lease
        return None  # unsettled: JetStream delivers it again after ack_wait

    async def _run(self, d: Delivery) -> None:
        ctx = JobContext(d.run, d.attempt, self._publisher, self._policy)

        async def on_event(m: Msg) -> None:
            await self._on_event(m.data, ctx)

        watch = await self._nc.subscribe(subjects.events_subject(d.run.job_id), cb=on_event)
        heartbeat = asyncio.create_task(self._heartbeat(d))
        self._running.add(ctx)
        try:
            await self._execute_and_complete(ctx, d)
        except JobCancelledError:
            await self._on_cancelled(ctx, d)
        except PermanentError as exc:
            d.log.warning("job failed", code=exc.code.value, error=exc.message)
            await self._fail(d.run, d.attempt, exc.info())
            self._on_outcome("failed", d.seconds())
            await d.msg.term()
        except Exception as exc:
            await self._retry_or_fail(d, exc)
            self._on_outcome("retried", d.seconds())
        else:
            d.log.info("job completed", seconds=round(d.seconds(), 3))
            self._on_outcome("completed", d.seconds())
            await d.msg.ack()
        finally:
            self._running.discard(ctx)
            heartbeat.cancel()
            with contextlib.suppress(Exception):
                await watch.unsubscribe()

    async def _execute_and_complete(self, ctx: JobContext, d: Delivery) -> None:
        run = d.run
        await self._publish(
            JobStarted(
                job_id=run.job_id,
                attempt=d.attempt,
                worker=WORKER_ID,
                correlation_id=run.correlation_id,
            )
        )
        d.log.info("job started")
        try:
            outcome = await self._execute(ctx)
        finally:
            ctx.stop_progress()  # nothing of this run's progress lands after its outcome
        if ctx.cancelled() and not ctx.handed_back:
            raise JobCancelledError  # finished just as the client cancelled: keep nothing
        completed = JobCompleted(
            event_id=outcome_event_id(run.job_id),
            job_id=run.job_id,
            attempt=d.attempt,
            result=outcome.result,
            outputs=outcome.outputs,
            language=outcome.language,
            model=getattr(outcome.result, "model", None) or self._identity,
            correlation_id=run.correlation_id,
        )
        completed = await self._offload.fit(completed, self._nc.max_payload)
        await ctx.complete_progress()
        await self._publish_outcome(completed, d.log)

    async def _on_cancelled(self, ctx: JobContext, d: Delivery) -> None:
        await self._discard_outputs(d)
        if ctx.handed_back:
            await self._hand_back(d)
            self._on_outcome("handed_back", d.seconds())
            return
        d.log.info("job cancelled while running")
        self._on_outcome("cancelled", d.seconds())
        await d.msg.ack()

    async def _discard_outputs(self, d: Delivery) -> None:
        if self._discard is not None:
            try:
                await self._discard(d.run.job_id)
            except Exception as exc:  # retention removes it later in any case
                d.log.warning("partial outputs not removed", error=str(exc))

    async def _hand_back(self, d: Delivery) -> None:
        d.log.info("job handed back at shutdown")
        error = ErrorInfo(
            code=ErrorCode.UNAVAILABLE, message=f"worker {WORKER_ID} shut down; the job runs again"
        )
        with contextlib.suppress(Exception):
            await self._requeued(d, error)
        await self._leases.release(d.lease)  # before the nak: another replica takes it
        await d.msg.nak(delay=0)

    async def _publish(self, event: Any) -> None:
        await self._publisher.publish(event)

    async def _publish_outcome(self, event: JobCompleted | JobFailed, bound: Any) -> None:
        await publish_until_stored(
            self._publisher, event, within_s=self._policy.outcome_publish_s, log=bound
        )

    async def _fail(self, run: RunJob, attempt: int, error: ErrorInfo) -> None:
        failed = JobFailed(
            event_id=outcome_event_id(run.job_id),
            job_id=run.job_id,
            attempt=attempt,
            error=error,
            correlation_id=run.correlation_id,
        )
        await self._publish_outcome(failed, log.bind(job_id=str(run.job_id)))

    async def _requeued(self, d: Delivery, error: ErrorInfo) -> None:
        await self._publish(
            JobRequeued(
                job_id=d.run.job_id,
                attempt=d.attempt + 1,
                error=error,
                correlation_id=d.run.correlation_id,
            )
        )

    async def _retry_or_fail(self, d: Delivery, exc: Exception) -> None:
        code = getattr(exc, "code", ErrorCode.INTERNAL)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        if d.attempt >= self._policy.max_deliver:
            d.log.error("job failed after retries", error=message)
            error = ErrorInfo(
                code=ErrorCode.RETRIES_EXHAUSTED,
                message=f"gave up after {d.attempt} attempts; last error ({code}): {message}",
            )
            with contextlib.suppress(Exception):
                await self._fail(d.run, d.attempt, error)
            await d.msg.term()
            return
        delay = self._policy.backoff(d.attempt)
        d.log.warning("job will be retried", error=message, delay_s=delay)
        with contextlib.suppress(Exception):
            await self._requeued(d, ErrorInfo(code=str(code), message=message))
        await self._leases.release(d.lease)
        await d.msg.nak(delay=delay)

    async def _give_up(self, msg: Msg, reason: str) -> None:
        consumer = streams.worker_consumer_name(self._job_type)
        await give_up(self._nc.jetstream(), msg, consumer, reason)

    async def _reject_unparseable(self, data: bytes, exc: ValidationError) -> str:
        job_id = named_job_id(data)
        detail = first_error(exc)
        message = f"unparseable RunJob: {detail}" if first_field(exc) else detail
        log.warning("command rejected", job_id=str(job_id), error=message)
        if job_id is not None:
            with contextlib.suppress(Exception):
                await self._publish(
                    JobFailed(
                        event_id=outcome_event_id(job_id),
                        job_id=job_id,
                        error=ErrorInfo(code=ErrorCode.INVALID_MESSAGE, message=message),
                    )
                )
        return message

    @staticmethod
    async def _on_event(data: bytes, ctx: JobContext) -> None:
        if event_kind(data) == "cancelled":
            ctx.cancel()

    async def _heartbeat(self, d: Delivery) -> None:
        while True:
            await asyncio.sleep(self._policy.heartbeat_s)
            with contextlib.suppress(Exception):
                await d.msg.in_progress()
            await self._leases.refresh(d.lease)
