"""Typed request-reply client for the ledger's `ledger.>` API."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

import nats.errors
from nats.aio.client import Client
from pydantic import BaseModel

from contracts import (
    ErrorCode,
    FileDeleteRequest,
    FileGetRequest,
    FileRegisterRequest,
    FileResponse,
    JobCancelRequest,
    JobCreateRequest,
    JobGetRequest,
    JobListRequest,
    JobListResponse,
    JobResponse,
    JobWebhooksRequest,
    JobWebhooksResponse,
    SubmitJob,
    subjects,
)
from services.common.tracing import inject

from .errors import ApiError

Resp = TypeVar("Resp", bound=BaseModel)


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

    async def create_job(self, submit: SubmitJob) -> JobResponse:
        return await self._call(
            subjects.LEDGER_JOBS_CREATE, JobCreateRequest(submit=submit), JobResponse
        )

    async def get_job(self, job_id: UUID, owner: str, mark_retrieved: bool = False) -> JobResponse:
        req = JobGetRequest(job_id=job_id, owner=owner, mark_retrieved=mark_retrieved)
        return await self._call(subjects.LEDGER_JOBS_GET, req, JobResponse)

    async def list_jobs(self, req: JobListRequest) -> JobListResponse:
        return await self._call(subjects.LEDGER_JOBS_LIST, req, JobListResponse)

    async def cancel_job(self, job_id: UUID, owner: str) -> JobResponse:
        req = JobCancelRequest(job_id=job_id, owner=owner)
        return await self._call(subjects.LEDGER_JOBS_CANCEL, req, JobResponse)

    async def webhooks(self, job_id: UUID, owner: str) -> JobWebhooksResponse:
        req = JobWebhooksRequest(job_id=job_id, owner=owner)
        return await self._call(subjects.LEDGER_JOBS_WEBHOOKS, req, JobWebhooksResponse)

    async def register_file(self, req: FileRegisterRequest) -> FileResponse:
        return await self._call(subjects.LEDGER_FILES_REGISTER, req, FileResponse)

    async def get_file(self, file_id: UUID, owner: str) -> FileResponse:
        req = FileGetRequest(file_id=file_id, owner=owner)
        return await self._call(subjects.LEDGER_FILES_GET, req, FileResponse)

    async def delete_file(self, file_id: UUID, owner: str) -> FileResponse:
        req = FileDeleteRequest(file_id=file_id, owner=owner)
        return await self._call(subjects.LEDGER_FILES_DELETE, req, FileResponse)
