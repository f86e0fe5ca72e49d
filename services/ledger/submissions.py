"""Use case: create a job, a batch (parent and children) or a pipeline, and dispatch it.

Idempotent on job id and idempotency key. The job row, its first events and its
outbox rows are written together; the commands are published after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from contracts import (
    ErrorCode,
    ErrorInfo,
    JobFailed,
    JobResponse,
    JobStatus,
    JobType,
    SubmitJob,
)
from services.common.logging import get_logger

from . import batches, pipelines, step_files, submission_checks
from .adapters.pg import Pool
from .adapters.pg import files as pg_files
from .adapters.pg import jobs as pg_jobs
from .builders import PRODUCER, PlannedJob, event_message, pending
from .creations import Creations
from .dispatcher import Dispatcher
from .errors import ID_IN_USE, SubmissionRejected
from .metrics import JOBS_CREATED, JOBS_REJECTED
from .policy import LedgerPolicy
from .records import FileRow, InputFile, JobRow, NewJob
from .result_cache import ResultCache, cache_key

log = get_logger(__name__)
ServeCached = Callable[[UUID, JobRow], None]


class Submissions:
    def __init__(
        self,
        pool: Pool,
        dispatcher: Dispatcher,
        policy: LedgerPolicy,
        cache: ResultCache | None,
        serve_cached: ServeCached,
    ) -> None:
        self._pool = pool
        self._dispatcher = dispatcher
        self._policy = policy
        self._cache = cache
        self._serve_cached = serve_cached
        self._creations = Creations(pool)

    async def submit(
        self, submit: SubmitJob, *, source: str, record_rejection: bool
    ) -> JobResponse:
        """With `record_rejection` (submissions straight on NATS, where nobody waits for a
        reply) an invalid submission still becomes a `failed` job the submitter can see."""
        try:
            planned = await self._plan(submit)
        except SubmissionRejected as rejected:
            JOBS_REJECTED.labels(code=rejected.error.code, source=source).inc()
            if not record_rejection:
                return JobResponse(error=rejected.error)
            return await self.reject(
                submit.job_id,
                submit.owner,
                submit.type.value,
                rejected.error,
                submit.correlation_id,
            )
        if len(planned) == 1:
            inserted = await self._creations.insert(planned[0])
        else:
            inserted = await pg_jobs.insert_tree(self._pool, planned)
        if inserted.job is None:
            return JobResponse(error=ID_IN_USE)
        if inserted.created:
            for p in planned:
                JOBS_CREATED.labels(type=p.new.type, source=source).inc()
            self._dispatcher.kick(inserted.outbox_ids, inserted.messages)
            for p in planned:
                if p.cache_source is not None:
                    self._serve_cached(p.new.id, p.cache_source)
        return JobResponse(job=inserted.job.record(), created=inserted.created)

    async def reject(
        self, job_id: UUID, owner: str, job_type: str, error: ErrorInfo, correlation_id: str | None
    ) -> JobResponse:
        """Record a submission that cannot run as a failed job (with its `JobFailed`)."""
        failed = JobFailed(
            job_id=job_id, error=error, producer=PRODUCER, correlation_id=correlation_id
        )
        new = NewJob(
            id=job_id,
            owner=owner,
            type=job_type,
            status=JobStatus.FAILED,
            correlation_id=correlation_id,
            error_code=error.code,
            error_message=error.message,
        )
        planned = PlannedJob(new, [failed], [event_message(failed)])
        inserted = await pg_jobs.insert(self._pool, planned)
        if inserted.job is None:
            return JobResponse(error=ID_IN_USE)
        if inserted.created:
            self._dispatcher.kick(inserted.outbox_ids, inserted.messages)
            log.info("submission rejected", job_id=str(job_id), code=error.code)
        return JobResponse(job=inserted.job.record(), created=inserted.created, error=error)

    async def _plan(self, submit: SubmitJob) -> list[PlannedJob]:
        if submit.callback_url is not None:
            await submission_checks.callback(str(submit.callback_url), self._policy)
        if submit.type is JobType.BATCH:
            return await self._plan_batch(submit)
        options = submission_checks.options(submit.type, submit.options)
        steps = submission_checks.steps(submit.type, options, submit)
        if submit.file_id is None:
            raise SubmissionRejected(ErrorCode.INVALID_REQUEST, "file_id is required")
        found = await pg_files.get(self._pool, submit.file_id, submit.owner)
        if found is None:
            raise SubmissionRejected(ErrorCode.FILE_NOT_FOUND, f"file {submit.file_id} not found")
        file = InputFile(found.id, found.object_key, found.record.filename, found.record.sha256)
        named = await self._named_files(submit.owner, options, steps)
        return [
            await self._plan_job(submit, submit.job_id, submit.type, file, options, steps, named)
        ]

    async def _named_files(
        self, owner: str, options: dict[str, Any], steps: list[dict[str, Any]]
    ) -> dict[UUID, FileRow]:
        """The uploaded files the options of the job and its steps name (subtitles)."""
        wanted = [
            *step_files.named_file_ids(options),
            *(f for s in steps for f in step_files.named_file_ids(s["options"])),
        ]
        if not wanted:
            return {}
        found = await pg_files.of_owner(self._pool, list(dict.fromkeys(wanted)), owner)
        missing = next((f for f in wanted if f not in found), None)
        if missing is not None:
            raise SubmissionRejected(ErrorCode.FILE_NOT_FOUND, f"file {missing} not found")
        return found

    async def _plan_job(
        self,
        submit: SubmitJob,
        job_id: UUID,
        job_type: JobType,
        file: InputFile,
        options: dict[str, Any],
        steps: list[dict[str, Any]],
        named: dict[UUID, FileRow],
        parent_id: UUID | None = None,
    ) -> PlannedJob:
        # A pipeline's top-level job ends with its last step's result: never cached.
        key = None if steps else cache_key(job_type.value, options, file.sha256)
        source = None
        if self._cache is not None and submit.cache and key is not None:
            source = await self._cache.lookup(submit.owner, key, job_type.value, options)
        top = parent_id is None
        if steps:
            steps = step_files.with_pipeline_input(steps, file)
            steps = step_files.with_named_files(steps, named)
        new = NewJob(
            id=job_id,
            owner=submit.owner,
            type=job_type.value,
            options=options,
            file_id=file.id,
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
            cached_from=source.id if source is not None else None,
        )
        planned = pending(
            new,
            file,
            dispatch=source is None,
            attachments=step_files.attachments_of(options, named),
        )
        planned.cache_source = source
        return planned

    async def _plan_batch(self, submit: SubmitJob) -> list[PlannedJob]:
        batch = submission_checks.options(JobType.BATCH, submit.options)
        child_type = JobType(batch["child_type"])
        child_options = submission_checks.options(
            child_type, batch["child_options"], "options.child_options"
        )
        steps = submission_checks.steps(child_type, child_options, submit)
        named = await self._named_files(submit.owner, child_options, steps)
        file_ids = submission_checks.batch_files(submit, self._policy)
        found = await pg_files.of_owner(self._pool, file_ids, submit.owner)
        missing = next((f for f in file_ids if f not in found), None)
        if missing is not None:
            raise SubmissionRejected(ErrorCode.FILE_NOT_FOUND, f"file {missing} not found")
        parent = NewJob(
            id=submit.job_id,
            owner=submit.owner,
            type=JobType.BATCH.value,
            options={**batch, "child_options": child_options},
            file_ids=file_ids,
            correlation_id=submit.correlation_id,
            idempotency_key=submit.idempotency_key,
            callback_url=str(submit.callback_url) if submit.callback_url else None,
            retention_hours=submit.retention_hours,
            delete_after_retrieval=submit.delete_after_retrieval,
        )
        planned = [pending(parent, None)]
        for i, file_id in enumerate(file_ids):
            f = found[file_id]
            file = InputFile(file_id, f.object_key, f.record.filename, f.record.sha256)
            child = batches.child_id(submit.job_id, i)
            planned.append(
                await self._plan_job(
                    submit, child, child_type, file, child_options, steps, named, submit.job_id
                )
            )
        return planned
