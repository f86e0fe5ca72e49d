"""The ledger's use cases: create, read, list and cancel jobs; files; event ingestion.

Handlers translate wire messages into calls here; this module decides, the repository
stores and the dispatcher publishes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
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
    OutputFile,
    RunJob,
    SubmitJob,
    parse_options,
    subjects,
)
from contracts.options import check_chain
from services.common.logging import get_logger

from . import pipelines
from .dispatcher import Dispatcher
from .fold import JobState, fold
from .metrics import EVENTS_INGESTED, INGEST_BATCH, JOBS_CREATED, JOBS_FINISHED, JOBS_REJECTED
from .repository import Conn, NewJob, OutboxMessage, Repository

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
    )


class Ledger:
    def __init__(self, repo: Repository, dispatcher: Dispatcher) -> None:
        self.repo = repo
        self.dispatcher = dispatcher

    # --- submissions -----------------------------------------------------------------

    async def submit(
        self, submit: SubmitJob, *, source: str, record_rejection: bool
    ) -> JobResponse:
        """Create a job (idempotent on job id and idempotency key) and dispatch it.

        With `record_rejection` (submissions straight on NATS, where nobody waits for a
        reply) an invalid submission still becomes a `failed` job the submitter can see.
        """
        try:
            options, steps, input_key, filename = await self._validate(submit)
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

        queued = JobQueued(
            job_id=submit.job_id,
            type=submit.type,
            producer=PRODUCER,
            correlation_id=submit.correlation_id,
        )
        run = RunJob(
            job_id=submit.job_id,
            type=submit.type,
            file_id=submit.file_id,
            input_key=input_key,
            input_filename=filename,
            options=options,
            owner=submit.owner,
            correlation_id=submit.correlation_id,
        )
        new = NewJob(
            id=submit.job_id,
            owner=submit.owner,
            type=submit.type.value,
            status=JobStatus.PENDING,
            options=options,
            file_id=submit.file_id,
            file_ids=submit.file_ids,
            correlation_id=submit.correlation_id,
            idempotency_key=submit.idempotency_key,
            callback_url=str(submit.callback_url) if submit.callback_url else None,
            retention_hours=submit.retention_hours,
            delete_after_retrieval=submit.delete_after_retrieval,
            pipeline=steps or None,
            pipeline_root=submit.job_id if steps else None,
            pipeline_index=0 if steps else None,
            steps=pipelines.initial_steps(submit.job_id, submit.type.value, steps)
            if steps
            else None,
        )
        outbox = [
            event_message(queued),
            OutboxMessage(
                subject=subjects.run_subject(submit.type),
                msg_id=f"{submit.job_id}:1",
                payload=run.model_dump_json().encode(),
            ),
        ]
        job, ids, created = await self.repo.create_job(new, [queued], outbox)
        if job is None:
            return JobResponse(error=ID_IN_USE)
        if created:
            JOBS_CREATED.labels(type=submit.type.value, source=source).inc()
            self.dispatcher.kick(ids, outbox)
        return JobResponse(job=job, created=created)

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

    async def _validate(
        self, submit: SubmitJob
    ) -> tuple[dict[str, Any], list[dict[str, Any]], str, str | None]:
        if submit.type is JobType.BATCH:
            raise SubmissionRejected(ErrorCode.UNKNOWN_JOB_TYPE, "batch jobs are not supported yet")
        options = self._options(submit.type, submit.options, "options")
        try:
            check_chain([submit.type, *(step.type for step in submit.then)])
        except ValueError as exc:
            raise SubmissionRejected(ErrorCode.INVALID_REQUEST, str(exc)) from exc
        steps = [
            {
                "type": step.type.value,
                "options": self._options(step.type, step.options, f"then[{i}].options"),
            }
            for i, step in enumerate(submit.then)
        ]
        if submit.file_id is None:
            raise SubmissionRejected(ErrorCode.INVALID_REQUEST, "file_id is required")
        found = await self.repo.get_file(submit.file_id, submit.owner)
        if found is None:
            raise SubmissionRejected(ErrorCode.FILE_NOT_FOUND, f"file {submit.file_id} not found")
        record, key = found
        return options, steps, key, record.filename

    @staticmethod
    def _options(job_type: JobType, raw: dict[str, Any], where: str) -> dict[str, Any]:
        try:
            return parse_options(job_type, raw).model_dump(mode="json")
        except InvalidOptionsError as exc:
            message = str(exc).replace("options", where, 1)
            raise SubmissionRejected(ErrorCode.INVALID_OPTIONS, message) from exc

    # --- reads -----------------------------------------------------------------------

    async def get_job(self, req: JobGetRequest) -> JobResponse:
        job = await self.repo.get_job(req.job_id, req.owner, req.mark_retrieved)
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
        job = await self.repo.get_job(job_id, owner, mark_retrieved=False)
        if job is None:
            return JobResponse(
                error=ErrorInfo(code=ErrorCode.JOB_NOT_FOUND, message=f"job {job_id} not found")
            )
        if job.status.is_terminal:
            return JobResponse(
                job=job,
                error=ErrorInfo(code="job_finished", message=f"job is already {job.status.value}"),
            )
        cancelled = JobCancelled(
            job_id=job_id,
            attempt=job.attempt,
            reason=reason or "cancelled by client",
            producer=PRODUCER,
        )
        await self.ingest([cancelled])
        await self.dispatcher.publish_now(event_message(cancelled))
        return await self.get_job(JobGetRequest(job_id=job_id, owner=owner))

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

    async def ingest(self, events: list[JobEvent]) -> int:
        """Store events idempotently and fold the new ones into their jobs."""
        kicks: list[tuple[list[int], list[OutboxMessage]]] = []

        async def fold_all(
            states: dict[UUID, tuple[JobState, asyncpg.Record]],
            fresh: list[JobEvent],
            conn: Conn,
        ) -> dict[UUID, JobState]:
            changed: dict[UUID, JobState] = {}

            def put(job_id: UUID, state: JobState) -> None:
                states[job_id] = (state, states[job_id][1])
                changed[job_id] = state

            for event in sorted(fresh, key=lambda e: e.occurred_at):
                if event.job_id not in states:
                    continue  # an event for a job this ledger never created: kept, not folded
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
                    if (
                        spawn is not None
                        and before.steps
                        and before.steps[0]["status"] == "completed"
                    ):
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
                    continue
                if row["pipeline_root"] == row["id"] and before.steps and not after.terminal:
                    # The root runs step 0 itself: its progress is the chain's.
                    after = replace(after, progress=min(after.progress, 1.0) / len(before.steps))
                put(event.job_id, after)
                if after.status != before.status and after.terminal:
                    JOBS_FINISHED.labels(type=row["type"], status=after.status.value).inc()
                if isinstance(event, JobCompleted) and before.status is not JobStatus.COMPLETED:
                    await self._register_outputs(row, event, conn)
                await self._follow_pipeline(row, after, event, states, put, spawn)
                if spawn is not None and isinstance(event, JobCompleted):
                    kicks.append(await self._create_step(row, event, spawn, conn))
            return changed

        count = await self.repo.ingest_events(events, fold_all)
        for ids, messages in kicks:  # only now: the step jobs are committed
            self.dispatcher.kick(ids, messages)
        INGEST_BATCH.observe(len(events))
        for event in events:
            EVENTS_INGESTED.labels(kind=event.kind).inc()
        return count

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
        outbox = [
            event_message(queued),
            OutboxMessage(
                subjects.run_subject(step.type), f"{step.job_id}:1", run.model_dump_json().encode()
            ),
        ]
        _, ids, created = await self.repo.create_job(new, [queued], outbox, conn=conn)
        if created:
            JOBS_CREATED.labels(type=step.type, source="pipeline").inc()
        return ids, outbox if created else []
