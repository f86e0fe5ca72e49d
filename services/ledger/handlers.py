"""Thin FastStream subscribers: parse the wire, call the ledger, ack or reply.

Request-reply handlers always answer (an error reply rather than silence), so the
gateway never waits out a timeout because of a bad request or a database hiccup.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.aio.msg import Msg
from pydantic import BaseModel, ValidationError

from contracts import (
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
    SubmitJob,
    streams,
    subjects,
)
from services.common import jetstream, tracing
from services.common.logging import get_logger

from .service import Ledger
from .settings import LedgerSettings

log = get_logger(__name__)
Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)
QUEUE = "job-ledger"


def _request_handler(
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
            err = ErrorInfo(code=ErrorCode.INVALID_REQUEST, message=_first_error(exc))
            return resp_type(error=err)
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


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def register(broker: NatsBroker, ledger: Ledger, settings: LedgerSettings) -> None:
    jobs_stream = JStream(streams.JOBS_STREAM, declare=False)

    # --- request-reply for the gateway --------------------------------------------------
    async def create(req: JobCreateRequest) -> JobResponse:
        return await ledger.submit(req.submit, source="gateway", record_rejection=False)

    async def cancel(req: JobCancelRequest) -> JobResponse:
        return await ledger.cancel(req.job_id, req.owner)

    async def delete_file(req: FileDeleteRequest) -> FileResponse:
        return await ledger.delete_file(req.file_id, req.owner)

    routes: list[tuple[str, type[BaseModel], type[BaseModel], Callable[[Any], Awaitable[Any]]]] = [
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
    ]
    for subject, req_type, resp_type, call in routes:
        handler = _request_handler(subject, req_type, resp_type, call)
        # Concurrent: requests are I/O-bound (PostgreSQL), one at a time would serialise them.
        broker.subscriber(
            subject,
            queue=QUEUE,
            title=subject,
            max_workers=settings.request_concurrency,
            decoder=_raw_body,
        )(handler)

    # --- jobs.submit: upstream systems publish here directly ---------------------------
    @broker.subscriber(
        subjects.JOBS_SUBMIT,
        stream=jobs_stream,
        durable=streams.LEDGER_SUBMIT_CONSUMER,
        config=jetstream.ledger_submit_consumer(settings.submit_max_deliver),
        pull_sub=PullSub(batch_size=20, timeout=1.0),
        ack_policy=AckPolicy.MANUAL,
        title="jobs.submit",
    )
    async def on_submit(msg: NatsMessage) -> None:
        raw: Msg = msg.raw_message
        try:
            with tracing.span(subjects.JOBS_SUBMIT, raw.headers or {}):
                await handle_submission(ledger, raw.data, raw.headers or {})
        except Exception as exc:
            delivered = raw.metadata.num_delivered
            log.warning("submission not stored, will retry", error=str(exc), delivered=delivered)
            await msg.nack(delay=min(2.0 * delivered, 30.0))
            return
        await msg.ack()


async def handle_submission(ledger: Ledger, data: bytes, headers: dict[str, str]) -> None:
    """Store one `SubmitJob` published on NATS, or record why it was rejected.

    A rejection whose payload names a job id becomes a failed job (the submitter follows
    `jobs.events.<job_id>` and sees `JobFailed`); one with no usable id is only logged.
    """
    try:
        submit = SubmitJob.model_validate_json(data)
    except ValidationError as exc:
        raw = _json_object(data)
        job_id = _uuid(raw.get("job_id"))
        codes = {str(e["loc"][0]) if e["loc"] else "" for e in exc.errors()}
        code = ErrorCode.UNKNOWN_JOB_TYPE if "type" in codes else ErrorCode.INVALID_MESSAGE
        message = _first_error(exc)
        log.warning("invalid submission", job_id=str(job_id), code=code.value, error=message)
        if job_id is not None:
            await ledger.reject(
                job_id,
                str(raw.get("owner") or "default"),
                str(raw.get("type") or "unknown")[:64],
                ErrorInfo(code=code.value, message=message),
                headers.get("Nats-Msg-Id"),
            )
        return
    await ledger.submit(submit, source="nats", record_rejection=True)


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except (ValueError, TypeError):
        return None
