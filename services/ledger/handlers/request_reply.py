"""Request-reply for the gateway (`ledger.>`): one subscriber per subject.

Every request is answered (an error reply rather than silence), so the gateway never
waits out a timeout because of a bad request or a database hiccup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from pydantic import BaseModel, ValidationError

from contracts import (
    DeadLetterListRequest,
    DeadLetterListResponse,
    ErrorCode,
    ErrorInfo,
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
    QueueStatsRequest,
    QueueStatsResponse,
    first_error,
    subjects,
)
from services.common import tracing
from services.common.logging import get_logger

from ..builders import PRODUCER
from ..ledger import Ledger

log = get_logger(__name__)
Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)
Route = tuple[str, type[BaseModel], type[BaseModel], Callable[[Any], Awaitable[Any]]]


def routes(ledger: Ledger) -> list[Route]:
    """(subject, request type, reply type, use case) of every request the ledger answers."""

    async def create(req: JobCreateRequest) -> JobResponse:
        return await ledger.submit(req.submit, source="gateway", record_rejection=False)

    async def cancel(req: JobCancelRequest) -> JobResponse:
        return await ledger.cancel(req.job_id, req.owner)

    async def delete_file(req: FileDeleteRequest) -> FileResponse:
        return await ledger.delete_file(req.file_id, req.owner)

    return [
        (subjects.LEDGER_JOBS_CREATE, JobCreateRequest, JobResponse, create),
        (subjects.LEDGER_JOBS_GET, JobGetRequest, JobResponse, ledger.get_job),
        (subjects.LEDGER_JOBS_LIST, JobListRequest, JobListResponse, ledger.list_jobs),
        (subjects.LEDGER_JOBS_CANCEL, JobCancelRequest, JobResponse, cancel),
        (
            subjects.LEDGER_JOBS_WEBHOOKS,
            JobWebhooksRequest,
            JobWebhooksResponse,
            ledger.webhooks_of,
        ),
        (subjects.LEDGER_FILES_REGISTER, FileRegisterRequest, FileResponse, ledger.register_file),
        (subjects.LEDGER_FILES_GET, FileGetRequest, FileResponse, ledger.get_file),
        (subjects.LEDGER_FILES_DELETE, FileDeleteRequest, FileResponse, delete_file),
        (
            subjects.LEDGER_DEAD_LETTERS_LIST,
            DeadLetterListRequest,
            DeadLetterListResponse,
            ledger.dead_letters.list,
        ),
        (subjects.LEDGER_QUEUE_STATS, QueueStatsRequest, QueueStatsResponse, ledger.queue_stats),
    ]


def register(broker: NatsBroker, ledger: Ledger, concurrency: int) -> None:
    for subject, req_type, resp_type, call in routes(ledger):
        # Concurrent: requests are I/O-bound (PostgreSQL), one at a time would serialise them.
        broker.subscriber(
            subject,
            queue=PRODUCER,
            title=subject,
            max_workers=concurrency,
            decoder=_raw_body,
        )(_handler(subject, req_type, resp_type, call))


def _handler(
    subject: str,
    req_type: type[Req],
    resp_type: type[Resp],
    call: Callable[[Req], Awaitable[Resp]],
) -> Callable[[Any], Awaitable[Resp]]:
    # The raw body and headers, not a `NatsMessage`: FastStream resolves message
    # annotations in a worker thread, a costly hop on the hottest path of the ledger.
    async def handle(raw: Any) -> Resp:
        body, headers = raw
        try:
            req = req_type.model_validate_json(body)
        except ValidationError as exc:
            return resp_type(
                error=ErrorInfo(code=ErrorCode.INVALID_REQUEST, message=first_error(exc))
            )
        try:
            with tracing.span(subject, headers or {}):
                return await call(req)
        except Exception as exc:
            log.exception("ledger request failed", request=req_type.__name__)
            err = ErrorInfo(
                code=ErrorCode.UNAVAILABLE, message=f"ledger error: {type(exc).__name__}"
            )
            return resp_type(error=err)

    return handle


async def _raw_body(msg: Any) -> tuple[bytes, dict[str, str]]:
    """Decoder that hands the handler the bytes as sent (we parse with our own models)
    and the headers (trace context)."""
    return msg.body, dict(msg.headers or {})
