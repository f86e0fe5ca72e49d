"""The ledger's use cases: create, read, list and cancel jobs; files; event ingestion.

Handlers translate wire messages into calls here; this module decides, the repository
stores and the dispatcher publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from contracts import (
    ErrorCode,
    ErrorInfo,
    FileGetRequest,
    FileRegisterRequest,
    FileResponse,
    InvalidOptionsError,
    JobCancelled,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobGetRequest,
    JobListRequest,
    JobListResponse,
    JobQueued,
    JobResponse,
    JobStatus,
    JobType,
    JobWebhooksRequest,
    JobWebhooksResponse,
    OutputFile,
    RunJob,
    SubmitJob,
    parse_options,
    subjects,
)
from contracts.options import check_chain
from services.common import tracing
from services.common.logging import get_logger

from . import batches, mirror, pipelines, webhooks
from .dispatcher import Dispatcher
from .fold import JobState, fold
from .metrics import EVENTS_INGESTED, INGEST_BATCH, JOBS_CREATED, JOBS_FINISHED, JOBS_REJECTED
from .repository import Conn, NewJob, OutboxMessage, Repository
from .result_cache import ResultCache, cache_key

log = get_logger(__name__)
PRODUCER = "job-ledger"
ID_IN_USE = ErrorInfo(code=ErrorCode.INVALID_REQUEST, message="job id or idempotency key in use")


class SubmissionRejected(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = ErrorInfo(code=code.value, message=message)


def event_message(event: JobEvent) -> OutboxMessage:
    return OutboxMessage(
        subject=subjects.events_subject(event.job_id),
        msg_id=str(event.event_id),
        payload=event.model_dump_json().encode(),
        headers=tracing.inject() or None,
    )


def run_message(run: RunJob) -> OutboxMessage:
    """The command for a worker, carrying the trace of the request that made it."""
    return OutboxMessage(
        subject=subjects.run_subject(run.type),
        msg_id=f"{run.job_id}:1",
        payload=run.model_dump_json().encode(),
        headers=tracing.inject() or None,
    )


@dataclass(frozen=True)
class LedgerPolicy:
    retrieval_grace_s: float = 300.0
    max_batch_files: int = 1000
    webhooks_enabled: bool = True
    webhook_allow_private: bool = False


@dataclass
class Planned:
    """A job ready to be created: its row, first events, outbox rows and dispatch."""

    new: NewJob
    events: list[JobEvent]
    outbox: list[OutboxMessage]
    cache_source: asyncpg.Record | None = None


@dataclass(frozen=True)
class InputFile:
    id: UUID
    key: str
    filename: str | None
    sha256: str | None


class Ledger:
    def __init__(
        self,
        repo: Repository,
        dispatcher: Dispatcher,
        policy: LedgerPolicy | None = None,
        cache: ResultCache | None = None,
        on_webhooks: Callable[[], None] | None = None,
    ) -> None:
        self.repo = repo
        self.dispatcher = dispatcher
        self.policy = policy or LedgerPolicy()
        self.cache = cache
        self._on_webhooks = on_webhooks or (lambda: None)
        self._background: set[asyncio.Task[None]] = set()

    # --- submissions -----------------------------------------------------------------

    async def submit(
        self, submit: SubmitJob, *, source: str, record_rejection: bool
    ) -> JobResponse:
        """Create a job (idempotent on job id and idempotency key) and dispatch it.

        With `record_rejection` (submissions straight on NATS, where nobody waits for a
        reply) an invalid submission still becomes a `failed` job the submitter can see.
        """
        try:
            if submit.callback_url is not None:
                await self._check_callback(str(submit.callback_url))
            if submit.type is JobType.BATCH:
                planned = await self._plan_batch(submit)
            else:
                planned = [await self._plan_single(submit)]
        except SubmissionRejected as rejected:
            JOBS_REJECTED.labels(code=rejected.error.code, source=source).inc()
            if record_rejection:
                return await self.reject(
                    submit.job_id,
                    submit.owner,
                    submit.type.value,
                    rejected.error,
                    submit.correlation_id,
                )
            return JobResponse(error=rejected.error)

        if len(planned) == 1:
            top = planned[0]
            job, ids, created = await self.repo.create_job(top.new, top.events, top.outbox)
            messages = top.outbox
        else:
            job, ids, created = await self.repo.create_jobs(
                [(p.new, p.events, p.outbox) for p in planned]
            )
            messages = [m for p in planned for m in p.outbox]
        if job is None:
            return JobResponse(error=ID_IN_USE)
        if created:
            for p in planned:
                JOBS_CREATED.labels(type=p.new.type, source=source).inc()
            self.dispatcher.kick(ids, messages)
            for p in planned:
                if p.cache_source is not None:
                    self._in_background(self._serve_cached(p.new.id, p.cache_source))
        return JobResponse(job=job, created=created)

    async def _plan_single(self, submit: SubmitJob) -> Planned:
        options, steps, file = await self._validate(submit)
        return await self._plan_job(submit, submit.job_id, submit.type, file, options, steps)

    async def _plan_job(
        self,
        submit: SubmitJob,
        job_id: UUID,
        job_type: JobType,
        file: InputFile,
        options: dict[str, Any],
        steps: list[dict[str, Any]],
        parent_id: UUID | None = None,
    ) -> Planned:
        queued = JobQueued(
            job_id=job_id, type=job_type, producer=PRODUCER, correlation_id=submit.correlation_id
        )
        # A pipeline's top-level job ends with its last step's result: never cached.
        key = None if steps else cache_key(job_type.value, options, file.sha256)
        source = None
        if self.cache is not None and submit.cache and key is not None:
            source = await self.cache.lookup(submit.owner, key, job_type.value, options)
        run = RunJob(
            job_id=job_id,
            type=job_type,
            file_id=file.id,
            input_key=file.key,
            input_filename=file.filename,
            options=options,
            owner=submit.owner,
            correlation_id=submit.correlation_id,
        )
        outbox = [event_message(queued)]
        if source is None:
            outbox.append(run_message(run))
        top = parent_id is None
        new = NewJob(
            id=job_id,
            owner=submit.owner,
            type=job_type.value,
            status=JobStatus.PENDING,
            options=options,
            file_id=file.id,
            file_ids=None,
            correlation_id=submit.correlation_id,
            idempotency_key=submit.idempotency_key if top else None,
            callback_url=str(submit.callback_url) if submit.callback_url and top else None,
            retention_hours=submit.retention_hours,
            delete_after_retrieval=submit.delete_after_retrieval,
            pipeline=steps or None,
            pipeline_root=job_id if steps else None,
            pipeline_index=0 if steps else None,
            steps=pipelines.initial_steps(job_id, job_type.value, steps) if steps else None,
            parent_id=parent_id,
            cache_key=key,
            cached_from=source["id"] if source is not None else None,
        )
        return Planned(new, [queued], outbox, source)

    async def _plan_batch(self, submit: SubmitJob) -> list[Planned]:
        batch = self._options(JobType.BATCH, submit.options, "options")
        child_type = JobType(batch["child_type"])
        child_options = self._options(child_type, batch["child_options"], "options.child_options")
        steps = self._steps(child_type, submit)
        file_ids = submit.file_ids or ([submit.file_id] if submit.file_id else [])
        if not file_ids:
            raise SubmissionRejected(ErrorCode.INVALID_REQUEST, "file_ids: at least one file")
        if len(file_ids) > self.policy.max_batch_files:
            raise SubmissionRejected(
                ErrorCode.INVALID_REQUEST,
                f"file_ids: at most {self.policy.max_batch_files} files in one batch",
            )
        found = await self.repo.files_by_id(file_ids, submit.owner)
        missing = next((f for f in file_ids if f not in found), None)
        if missing is not None:
            raise SubmissionRejected(ErrorCode.FILE_NOT_FOUND, f"file {missing} not found")
        queued = JobQueued(
            job_id=submit.job_id,
            type=JobType.BATCH,
            producer=PRODUCER,
            correlation_id=submit.correlation_id,
        )
        parent = Planned(
            NewJob(
                id=submit.job_id,
                owner=submit.owner,
                type=JobType.BATCH.value,
                status=JobStatus.PENDING,
                options={**batch, "child_options": child_options},
                file_id=None,
                file_ids=file_ids,
                correlation_id=submit.correlation_id,
                idempotency_key=submit.idempotency_key,
                callback_url=str(submit.callback_url) if submit.callback_url else None,
                retention_hours=submit.retention_hours,
                delete_after_retrieval=submit.delete_after_retrieval,
            ),
            [queued],
            [event_message(queued)],
        )
        children = []
        for i, file_id in enumerate(file_ids):
            row = found[file_id]
            file = InputFile(file_id, row["object_key"], row["filename"], row["sha256"])
            child = batches.child_id(submit.job_id, i)
            children.append(
                await self._plan_job(
                    submit, child, child_type, file, child_options, steps, submit.job_id
                )
            )
        return [parent, *children]

    async def reject(
        self, job_id: UUID, owner: str, job_type: str, error: ErrorInfo, correlation_id: str | None
    ) -> JobResponse:
        failed = JobFailed(
            job_id=job_id, error=error, producer=PRODUCER, correlation_id=correlation_id
        )
        new = NewJob(
            id=job_id,
            owner=owner,
            type=job_type,
            status=JobStatus.FAILED,
            options={},
            file_id=None,
            file_ids=None,
            correlation_id=correlation_id,
            idempotency_key=None,
            callback_url=None,
            retention_hours=None,
            delete_after_retrieval=False,
            error_code=error.code,
            error_message=error.message,
        )
        outbox = [event_message(failed)]
        job, ids, created = await self.repo.create_job(new, [failed], outbox)
        if job is None:
            return JobResponse(error=ID_IN_USE)
        if created:
            self.dispatcher.kick(ids, outbox)
            log.info("submission rejected", job_id=str(job_id), code=error.code)
        return JobResponse(job=job, created=created, error=error)

    async def _check_callback(self, url: str) -> None:
        if not self.policy.webhooks_enabled:
            raise SubmissionRejected(
                ErrorCode.INVALID_REQUEST,
                "callback_url: webhooks are not configured on this server (WEBHOOK_SECRET)",
            )
        try:
            await webhooks.check_url(url, self.policy.webhook_allow_private)
        except webhooks.InvalidCallback as exc:
            raise SubmissionRejected(ErrorCode.INVALID_REQUEST, str(exc)) from exc

    def _steps(self, first: JobType, submit: SubmitJob) -> list[dict[str, Any]]:
        try:
            check_chain([first, *(step.type for step in submit.then)])
        except ValueError as exc:
            raise SubmissionRejected(ErrorCode.INVALID_REQUEST, str(exc)) from exc
        return [
            {
                "type": step.type.value,
                "options": self._options(step.type, step.options, f"then[{i}].options"),
            }
            for i, step in enumerate(submit.then)
        ]

    async def _validate(
        self, submit: SubmitJob
    ) -> tuple[dict[str, Any], list[dict[str, Any]], InputFile]:
        options = self._options(submit.type, submit.options, "options")
        steps = self._steps(submit.type, submit)
        if submit.file_id is None:
            raise SubmissionRejected(ErrorCode.INVALID_REQUEST, "file_id is required")
        found = await self.repo.get_file(submit.file_id, submit.owner)
        if found is None:
            raise SubmissionRejected(ErrorCode.FILE_NOT_FOUND, f"file {submit.file_id} not found")
        record, key = found
        return options, steps, InputFile(record.id, key, record.filename, record.sha256)

    @staticmethod
    def _options(job_type: JobType, raw: dict[str, Any], where: str) -> dict[str, Any]:
        try:
            return parse_options(job_type, raw).model_dump(mode="json")
        except InvalidOptionsError as exc:
            message = str(exc).replace("options", where, 1)
            raise SubmissionRejected(ErrorCode.INVALID_OPTIONS, message) from exc

    # --- result cache ----------------------------------------------------------------

    def _in_background(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _serve_cached(self, job_id: UUID, source: asyncpg.Record) -> None:
        """Complete a cache hit from its source's outputs, or dispatch it if that fails."""
        assert self.cache is not None
        try:
            await self.ingest(await self.cache.reuse(job_id, source), own=True)
            return
        except Exception as exc:
            log.warning(
                "cached result not reusable, running the job", job_id=str(job_id), error=str(exc)
            )
        with contextlib.suppress(Exception):
            await self.dispatch_instead(job_id)

    async def dispatch_instead(self, job_id: UUID) -> None:
        """Send a cache hit to a worker after all (its source could not be reused)."""
        row = await self.repo.find_job_row(job_id)
        if row is None or row["status"] != JobStatus.PENDING.value:
            return
        found = await self.repo.get_file(row["file_id"], row["owner"])
        if found is None:
            return
        record, key = found
        run = RunJob(
            job_id=job_id,
            type=JobType(row["type"]),
            file_id=record.id,
            input_key=key,
            input_filename=record.filename,
            options=row["options"],
            owner=row["owner"],
            correlation_id=row["correlation_id"],
        )
        message = run_message(run)
        async with self.repo.pool.acquire() as conn, conn.transaction():
            await self.repo.clear_cached_from(job_id, conn)
            ids = await self.repo.add_outbox(conn, [message])
        self.dispatcher.kick(ids, [message])

    async def serve_stuck_cache_hits(self) -> None:
        """Cache hits a stopped ledger left `pending`: served again (the janitor calls it)."""
        if self.cache is None:
            return
        for row in await self.repo.stuck_cache_hits(older_than_s=30.0):
            source = await self.repo.find_job_row(row["cached_from"])
            if source is None or source["status"] != JobStatus.COMPLETED.value:
                await self.dispatch_instead(row["id"])
            else:
                await self._serve_cached(row["id"], source)

    # --- reads -----------------------------------------------------------------------

    async def get_job(self, req: JobGetRequest) -> JobResponse:
        job = await self.repo.get_job(
            req.job_id, req.owner, req.mark_retrieved, self.policy.retrieval_grace_s
        )
        if job is None:
            return JobResponse(
                error=ErrorInfo(code=ErrorCode.JOB_NOT_FOUND, message=f"job {req.job_id} not found")
            )
        return JobResponse(job=job)

    async def list_jobs(self, req: JobListRequest) -> JobListResponse:
        try:
            items, cursor = await self.repo.list_jobs(
                req.owner,
                req.status.value if req.status else None,
                req.type.value if req.type else None,
                req.parent_id,
                req.limit,
                req.cursor,
            )
        except (ValueError, UnicodeDecodeError):
            return JobListResponse(
                error=ErrorInfo(code=ErrorCode.INVALID_REQUEST, message="invalid cursor")
            )
        return JobListResponse(items=items, next_cursor=cursor)

    async def cancel(self, job_id: UUID, owner: str, reason: str | None = None) -> JobResponse:
        """Cancel a job and whatever under it has not finished (a batch's children, a
        pipeline's running step). Running workers see `JobCancelled` on the job's
        subject and stop; a pending job is skipped when a worker takes it."""
        job = await self.repo.get_job(job_id, owner, mark_retrieved=False)
        if job is None:
            return JobResponse(
                error=ErrorInfo(code=ErrorCode.JOB_NOT_FOUND, message=f"job {job_id} not found")
            )
        if job.status.is_terminal:
            return JobResponse(
                job=job,
                error=ErrorInfo(
                    code=ErrorCode.JOB_FINISHED, message=f"job is already {job.status.value}"
                ),
            )
        reason = reason or "cancelled by client"
        targets = [(job_id, job.attempt)] + [
            (r["id"], r["attempt"]) for r in await self.repo.live_descendants(job_id)
        ]
        await self.ingest(
            [
                JobCancelled(job_id=target, attempt=attempt, reason=reason, producer=PRODUCER)
                for target, attempt in targets
            ],
            own=True,
        )
        return await self.get_job(JobGetRequest(job_id=job_id, owner=owner))

    async def webhooks_of(self, req: JobWebhooksRequest) -> JobWebhooksResponse:
        job = await self.repo.get_job(req.job_id, req.owner, mark_retrieved=False)
        if job is None:
            return JobWebhooksResponse(
                error=ErrorInfo(code=ErrorCode.JOB_NOT_FOUND, message=f"job {req.job_id} not found")
            )
        return JobWebhooksResponse(items=await self.repo.webhooks_of(req.job_id))

    # --- files -----------------------------------------------------------------------

    async def register_file(self, req: FileRegisterRequest) -> FileResponse:
        record = await self.repo.insert_file(
            OutputFile(
                id=req.file_id,
                object_key=req.object_key,
                filename=req.filename,
                content_type=req.content_type,
                size=req.size,
                sha256=req.sha256,
                duration_s=req.duration_s,
            ),
            owner=req.owner,
        )
        return FileResponse(file=record, object_key=req.object_key)

    async def get_file(self, req: FileGetRequest) -> FileResponse:
        found = await self.repo.get_file(req.file_id, req.owner)
        if found is None:
            return FileResponse(
                error=ErrorInfo(
                    code=ErrorCode.FILE_NOT_FOUND, message=f"file {req.file_id} not found"
                )
            )
        record, key = found
        return FileResponse(file=record, object_key=key)

    async def delete_file(self, file_id: UUID, owner: str) -> FileResponse:
        key = await self.repo.mark_file_deleted(file_id, owner)
        if key is None:
            return FileResponse(
                error=ErrorInfo(code=ErrorCode.FILE_NOT_FOUND, message=f"file {file_id} not found")
            )
        return FileResponse(object_key=key)

    # --- events ----------------------------------------------------------------------

    async def ingest(self, events: list[JobEvent], *, own: bool = False) -> int:
        """Store events idempotently and fold the new ones into their jobs.

        `own`: events the ledger made itself (cancel, cache hits, expiry): they are also
        published, through the outbox of the same transaction. Jobs that move because
        of others (a pipeline's top-level job, a batch parent) get events of their own
        (see mirror.py); jobs reaching a terminal state with a `callback_url` get a
        webhook delivery row.
        """
        kicks: list[tuple[list[int], list[OutboxMessage]]] = []
        webhooks_added = False

        async def fold_all(
            states: dict[UUID, tuple[JobState, asyncpg.Record]],
            fresh: list[JobEvent],
            conn: Conn,
        ) -> dict[UUID, JobState]:
            nonlocal webhooks_added
            original = {job_id: state for job_id, (state, _) in states.items()}
            changed: dict[UUID, JobState] = {}
            derived: set[UUID] = set()  # moved by another job's event

            def put(job_id: UUID, state: JobState) -> None:
                states[job_id] = (state, states[job_id][1])
                changed[job_id] = state

            for event in sorted(fresh, key=lambda e: e.occurred_at):
                if event.job_id not in states:
                    continue  # an event for a job this ledger never created: kept, not folded
                await self._fold_one(event, states, put, derived, kicks, conn)

            await self._follow_batches(states, changed, put, derived, conn)
            outgoing = [
                e for job_id in sorted(derived) for e in self._mirror(job_id, original, states)
            ]
            if outgoing:
                await self.repo.insert_events(conn, outgoing)
            if own:
                outgoing = [*fresh, *outgoing]
            if outgoing:
                messages = [event_message(e) for e in outgoing]
                kicks.append((await self.repo.add_outbox(conn, messages), messages))
            deliveries = self._finished(original, changed, states)
            if deliveries:
                await self.repo.enqueue_webhooks(conn, deliveries)
                webhooks_added = True
            return changed

        count = await self.repo.ingest_events(events, fold_all)
        for ids, messages in kicks:  # only now: the rows are committed
            self.dispatcher.kick(ids, messages)
        if webhooks_added:
            self._on_webhooks()
        INGEST_BATCH.observe(len(events))
        for event in events:
            EVENTS_INGESTED.labels(kind=event.kind).inc()
        return count

    async def _fold_one(
        self,
        event: JobEvent,
        states: dict[UUID, tuple[JobState, asyncpg.Record]],
        put: Callable[[UUID, JobState], None],
        derived: set[UUID],
        kicks: list[tuple[list[int], list[OutboxMessage]]],
        conn: Conn,
    ) -> None:
        before, row = states[event.job_id]
        after = fold(before, event)
        spawn: pipelines.NextStep | None = None
        if (
            isinstance(event, JobCompleted)
            and row["pipeline"]
            and after.status is JobStatus.COMPLETED
        ):
            # A step with steps after it: start the next instead of ending the chain.
            spawn = self._next_step(row, event, states)
            if spawn is not None and before.steps and before.steps[0]["status"] == "completed":
                spawn, after = None, before  # a repeated completion of step 0
            elif spawn is not None and row["id"] == row["pipeline_root"]:
                after = replace(
                    after,
                    status=JobStatus.PROCESSING,
                    finished_at=None,
                    ttl_deadline=None,
                    result=None,
                )
        if after == before:
            return
        if row["pipeline_root"] == row["id"] and before.steps and not after.terminal:
            # The root runs step 0 itself: its progress is the chain's.
            after = replace(after, progress=min(after.progress, 1.0) / len(before.steps))
        put(event.job_id, after)
        if isinstance(event, JobCompleted) and before.status is not JobStatus.COMPLETED:
            await self._register_outputs(row, event, conn)
        await self._follow_pipeline(row, after, event, states, put, spawn)
        root_id = row["pipeline_root"]
        if root_id is not None and root_id != row["id"] and root_id in states:
            derived.add(root_id)
        if spawn is not None and isinstance(event, JobCompleted):
            kicks.append(await self._create_step(row, event, spawn, conn))

    async def _follow_batches(
        self,
        states: dict[UUID, tuple[JobState, asyncpg.Record]],
        changed: dict[UUID, JobState],
        put: Callable[[UUID, JobState], None],
        derived: set[UUID],
        conn: Conn,
    ) -> None:
        """Recount the children of every batch whose child moved in this fold."""
        parents = {
            states[job_id][1]["parent_id"]
            for job_id in changed
            if states[job_id][1]["parent_id"] in states
        }
        if not parents:
            return
        children: dict[UUID, dict[UUID, batches.Child]] = {p: {} for p in parents}
        for r in await self.repo.children_of(conn, sorted(parents)):
            current = states.get(r["id"])  # this fold's state wins over the stored one
            status, progress = (
                (current[0].status, current[0].progress)
                if current
                else (JobStatus(r["status"]), r["progress"])
            )
            children[r["parent_id"]][r["id"]] = batches.Child(status, progress)
        now = datetime.now(UTC)
        for parent_id in sorted(parents):
            parent, row = states[parent_id]
            count = len(row["file_ids"] or [])
            child_ids = [batches.child_id(parent_id, i) for i in range(count)]
            after = batches.aggregate(parent, child_ids, children[parent_id], now)
            if after != parent:
                put(parent_id, after)
                derived.add(parent_id)

    @staticmethod
    def _mirror(
        job_id: UUID,
        original: dict[UUID, JobState],
        states: dict[UUID, tuple[JobState, asyncpg.Record]],
    ) -> list[JobEvent]:
        correlation_id = states[job_id][1]["correlation_id"]
        return [
            e.model_copy(update={"correlation_id": correlation_id})
            for e in mirror.events_for(job_id, original[job_id], states[job_id][0])
        ]

    def _finished(
        self,
        original: dict[UUID, JobState],
        changed: dict[UUID, JobState],
        states: dict[UUID, tuple[JobState, asyncpg.Record]],
    ) -> list[tuple[UUID, str, bytes]]:
        """Count jobs that reached a terminal state; the webhooks they call for."""
        deliveries = []
        for job_id, after in changed.items():
            if original[job_id].terminal or not after.terminal:
                continue
            row = states[job_id][1]
            JOBS_FINISHED.labels(type=row["type"], status=after.status.value).inc()
            if row["callback_url"] and after.status is not JobStatus.EXPIRED:
                error = (
                    {"code": after.error_code, "message": after.error_message or ""}
                    if after.error_code
                    else None
                )
                body = webhooks.payload(
                    job_id, after.status.value, row["type"], error, after.finished_at
                )
                deliveries.append((job_id, row["callback_url"], body))
        return deliveries

    async def _register_outputs(self, row: asyncpg.Record, event: JobCompleted, conn: Conn) -> None:
        for out in event.outputs:
            await self.repo.insert_file(out, row["owner"], event.job_id, conn=conn)
        duration = getattr(event.result, "duration_s", None)
        if row["file_id"] is not None and duration is not None:
            # The input's duration is known once a worker has decoded it.
            await self.repo.set_file_duration(row["file_id"], duration, conn)

    @staticmethod
    def _next_step(
        row: asyncpg.Record,
        event: JobCompleted,
        states: dict[UUID, tuple[JobState, asyncpg.Record]],
    ) -> pipelines.NextStep | None:
        root_id: UUID = row["pipeline_root"]
        root = states.get(root_id)
        if root is None or (root_id != row["id"] and root[0].terminal):
            return None  # the chain was cancelled or failed meanwhile: nothing more runs
        return pipelines.next_step(root_id, row["pipeline_index"] or 0, row["pipeline"], event)

    @staticmethod
    async def _follow_pipeline(
        row: asyncpg.Record,
        after: JobState,
        event: JobEvent,
        states: dict[UUID, tuple[JobState, asyncpg.Record]],
        put: Callable[[UUID, JobState], None],
        spawn: pipelines.NextStep | None,
    ) -> None:
        """Mirror a step's move on the chain's root job (state and `steps`)."""
        root_id = row["pipeline_root"]
        if root_id is None or root_id not in states:
            return
        root, _ = states[root_id]
        if not root.steps:
            return
        index = row["pipeline_index"] or 0
        status = after.status.value
        if spawn is not None:
            status = JobStatus.COMPLETED.value
        steps = pipelines.mark_step(root.steps, index, status, row["id"])
        if spawn is not None:
            steps = pipelines.mark_step(steps, spawn.index, JobStatus.PENDING.value, spawn.job_id)
        if root_id == row["id"]:
            if after.terminal and after.status is not JobStatus.COMPLETED:
                steps = pipelines.mark_step(steps, index, status)
            put(root_id, replace(states[root_id][0], steps=steps))
            return
        new_root = pipelines.root_after_step(root, steps, index, after, event, event.occurred_at)
        put(root_id, replace(new_root, steps=steps))

    async def _create_step(
        self, row: asyncpg.Record, event: JobCompleted, step: pipelines.NextStep, conn: Conn
    ) -> tuple[list[int], list[OutboxMessage]]:
        source = event.outputs[0]
        queued = JobQueued(
            job_id=step.job_id,
            type=JobType(step.type),
            producer=PRODUCER,
            correlation_id=row["correlation_id"],
        )
        run = RunJob(
            job_id=step.job_id,
            type=JobType(step.type),
            file_id=source.id,
            input_key=source.object_key,
            input_filename=source.filename,
            options=step.options,
            owner=row["owner"],
            correlation_id=row["correlation_id"],
        )
        new = NewJob(
            id=step.job_id,
            owner=row["owner"],
            type=step.type,
            status=JobStatus.PENDING,
            options=step.options,
            file_id=source.id,
            file_ids=None,
            correlation_id=row["correlation_id"],
            idempotency_key=None,
            callback_url=None,
            retention_hours=row["retention_hours"],
            delete_after_retrieval=row["delete_after_retrieval"],
            pipeline=step.remaining or None,
            pipeline_root=step.root_id,
            pipeline_index=step.index,
        )
        outbox = [event_message(queued), run_message(run)]
        _, ids, created = await self.repo.create_job(new, [queued], outbox, conn=conn)
        if created:
            JOBS_CREATED.labels(type=step.type, source="pipeline").inc()
        return ids, outbox if created else []
