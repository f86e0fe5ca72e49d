"""The ledger's use cases: create, read, list and cancel jobs; files; event ingestion.

Handlers translate wire messages into calls here; this module decides, the repository
stores and the dispatcher publishes.
"""

from __future__ import annotations

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
from services.common.logging import get_logger

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

        async def fold_all(
            states: dict[UUID, tuple[JobState, asyncpg.Record]],
            fresh: list[JobEvent],
            conn: Conn,
        ) -> dict[UUID, JobState]:
            changed: dict[UUID, JobState] = {}
            for event in sorted(fresh, key=lambda e: e.occurred_at):
                if event.job_id not in states:
                    continue  # an event for a job this ledger never created: kept, not folded
                before, row = states[event.job_id]
                after = fold(before, event)
                if after == before:
                    continue
                states[event.job_id] = (after, row)
                changed[event.job_id] = after
                if after.status != before.status and after.terminal:
                    JOBS_FINISHED.labels(type=row["type"], status=after.status.value).inc()
                if isinstance(event, JobCompleted) and after.status is JobStatus.COMPLETED:
                    for out in event.outputs:
                        await self.repo.insert_file(out, row["owner"], event.job_id, conn=conn)
                    duration = getattr(event.result, "duration_s", None)
                    if row["file_id"] is not None and duration is not None:
                        # The input's duration is known once a worker has decoded it.
                        await self.repo.set_file_duration(row["file_id"], duration, conn)
            return changed

        count = await self.repo.ingest_events(events, fold_all)
        INGEST_BATCH.observe(len(events))
        for event in events:
            EVENTS_INGESTED.labels(kind=event.kind).inc()
        return count
