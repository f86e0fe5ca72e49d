"""The ledger's `ledger.>` request-reply API over NATS, as typed calls.

Every reply is checked here and turned into the value the caller needs: an error reply
raises its `ApiError` (lookups answer the gateway's own 404, except a ledger that is
`unavailable` — its database down —, which stays 503: an outage is never "not found"),
and a reply with neither payload nor error, which the ledger never sends, raises 503
`unavailable`. Those raise
`LedgerReplyError`; a ledger that does not answer at all raises a plain `ApiError` (503).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import nats.errors
from nats.aio.client import Client
from pydantic import BaseModel

from contracts import (
    DeadLetterListRequest,
    DeadLetterListResponse,
    ErrorCode,
    ErrorInfo,
    FileDeleteRequest,
    FileGetRequest,
    FileRecord,
    FileRegisterRequest,
    FileResponse,
    JobCancelRequest,
    JobCreateRequest,
    JobGetRequest,
    JobListRequest,
    JobListResponse,
    JobRecord,
    JobResponse,
    JobStatus,
    JobType,
    JobWebhooksRequest,
    JobWebhooksResponse,
    QueueStatsRequest,
    QueueStatsResponse,
    SubmitJob,
    WebhookDelivery,
    subjects,
)
from services.common.tracing import inject

from ..errors import ApiError

Resp = TypeVar("Resp", bound=BaseModel)
T = TypeVar("T")

READINESS_OWNER = "readiness-probe"  # a tenant no key maps to: the probe reads nothing


class LedgerReplyError(ApiError):
    """The ledger answered, with an error or with nothing usable."""


@dataclass(frozen=True)
class JobPage:
    items: list[JobRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class StoredFile:
    record: FileRecord
    object_key: str


def payload_of(
    payload: T | None,
    error: ErrorInfo | None,
    what: str,
    refused: LedgerReplyError | None = None,
) -> T:
    """A reply's payload; its error as `refused` (default, and always for `unavailable`:
    the error's own ApiError)."""
    if error is not None:
        if refused is None or error.code == ErrorCode.UNAVAILABLE:
            raise LedgerReplyError.from_info(error)
        raise refused
    if payload is None:
        raise LedgerReplyError(503, ErrorCode.UNAVAILABLE, f"the job ledger sent no {what}")
    return payload


def job_not_found(job_id: UUID) -> LedgerReplyError:
    return LedgerReplyError(404, ErrorCode.JOB_NOT_FOUND, f"job {job_id} not found")


def file_not_found(file_id: UUID) -> LedgerReplyError:
    return LedgerReplyError(404, ErrorCode.FILE_NOT_FOUND, f"file {file_id} not found")


class LedgerClient:
    def __init__(self, nc: Client, timeout_s: float) -> None:
        self._nc = nc
        self._timeout = timeout_s

    async def _call(self, subject: str, req: BaseModel, resp_type: type[Resp]) -> Resp:
        try:
            msg = await self._nc.request(
                subject, req.model_dump_json().encode(), timeout=self._timeout, headers=inject()
            )
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError) as exc:
            raise ApiError(503, ErrorCode.UNAVAILABLE, "the job ledger is not answering") from exc
        return resp_type.model_validate_json(msg.data)

    async def answers(self, timeout_s: float) -> bool:
        """Whether the ledger answers a read (the readiness probe): it must reply, and
        not with `unavailable` (its database down)."""
        probe = JobListRequest(owner=READINESS_OWNER, limit=1)
        try:
            msg = await self._nc.request(
                subjects.LEDGER_JOBS_LIST, probe.model_dump_json().encode(), timeout=timeout_s
            )
            reply = JobListResponse.model_validate_json(msg.data)
        except Exception:
            return False
        return reply.error is None

    async def create_job(self, submit: SubmitJob) -> JobRecord:
        req = JobCreateRequest(submit=submit)
        reply = await self._call(subjects.LEDGER_JOBS_CREATE, req, JobResponse)
        return payload_of(reply.job, reply.error, "job")

    async def get_job(self, job_id: UUID, owner: str, mark_retrieved: bool = False) -> JobRecord:
        """The job; an error reply reads as 404 `job_not_found` (`unavailable`: 503)."""
        req = JobGetRequest(job_id=job_id, owner=owner, mark_retrieved=mark_retrieved)
        reply = await self._call(subjects.LEDGER_JOBS_GET, req, JobResponse)
        return payload_of(reply.job, reply.error, "job", job_not_found(job_id))

    async def list_jobs(
        self,
        owner: str,
        *,
        status: JobStatus | None,
        type: JobType | None,
        parent_id: UUID | None,
        limit: int,
        cursor: str | None,
    ) -> JobPage:
        req = JobListRequest(
            owner=owner, status=status, type=type, parent_id=parent_id, limit=limit, cursor=cursor
        )
        reply = await self._call(subjects.LEDGER_JOBS_LIST, req, JobListResponse)
        items = payload_of(reply.items, reply.error, "jobs")
        return JobPage(items=items, next_cursor=reply.next_cursor)

    async def cancel_job(self, job_id: UUID, owner: str) -> JobRecord:
        req = JobCancelRequest(job_id=job_id, owner=owner)
        reply = await self._call(subjects.LEDGER_JOBS_CANCEL, req, JobResponse)
        return payload_of(reply.job, reply.error, "job")

    async def webhooks(self, job_id: UUID, owner: str) -> list[WebhookDelivery]:
        req = JobWebhooksRequest(job_id=job_id, owner=owner)
        reply = await self._call(subjects.LEDGER_JOBS_WEBHOOKS, req, JobWebhooksResponse)
        return payload_of(reply.items, reply.error, "webhook deliveries")

    async def register_file(
        self,
        owner: str,
        *,
        file_id: UUID,
        object_key: str,
        filename: str,
        content_type: str,
        size: int,
        sha256: str | None,
    ) -> FileRecord:
        """The new file's record; an error reply reads as 503 `unavailable`."""
        req = FileRegisterRequest(
            file_id=file_id,
            object_key=object_key,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            owner=owner,
        )
        reply = await self._call(subjects.LEDGER_FILES_REGISTER, req, FileResponse)
        if reply.error is not None or reply.file is None:
            message = reply.error.message if reply.error is not None else "no file"
            raise LedgerReplyError(503, ErrorCode.UNAVAILABLE, message)
        return reply.file

    async def get_file(self, file_id: UUID, owner: str) -> StoredFile:
        """The file and where its bytes are; an error reply reads as 404 (`unavailable`: 503)."""
        req = FileGetRequest(file_id=file_id, owner=owner)
        reply = await self._call(subjects.LEDGER_FILES_GET, req, FileResponse)
        refused = file_not_found(file_id)
        record = payload_of(reply.file, reply.error, "file", refused)
        key = payload_of(reply.object_key, reply.error, "object key", refused)
        return StoredFile(record=record, object_key=key)

    async def delete_file(self, file_id: UUID, owner: str) -> str:
        """The deleted file's object key; an error reply reads as 404 (`unavailable`: 503)."""
        req = FileDeleteRequest(file_id=file_id, owner=owner)
        reply = await self._call(subjects.LEDGER_FILES_DELETE, req, FileResponse)
        return payload_of(reply.object_key, reply.error, "object key", file_not_found(file_id))

    async def dead_letters(self, limit: int, before: int | None) -> DeadLetterListResponse:
        req = DeadLetterListRequest(limit=limit, before=before)
        reply = await self._call(subjects.LEDGER_DEAD_LETTERS_LIST, req, DeadLetterListResponse)
        if reply.error is not None:
            raise LedgerReplyError.from_info(reply.error)
        return reply

    async def queue_stats(self) -> QueueStatsResponse:
        reply = await self._call(
            subjects.LEDGER_QUEUE_STATS, QueueStatsRequest(), QueueStatsResponse
        )
        if reply.error is not None:
            raise LedgerReplyError.from_info(reply.error)
        return reply
