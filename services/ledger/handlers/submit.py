"""`jobs.submit`: upstream systems publish `SubmitJob` here directly (JetStream)."""

from __future__ import annotations

import contextlib

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.aio.msg import Msg
from pydantic import ValidationError

from contracts import ErrorCode, ErrorInfo, SubmitJob, first_error, raw, streams, subjects
from services.common import jetstream, tracing
from services.common.dead_letters import give_up
from services.common.logging import get_logger

from .. import poison
from ..adapters.pg import errors as pg_errors
from ..ledger import Ledger
from ..metrics import SUBMISSIONS_RETRIED
from ..sanitise import without_nul

log = get_logger(__name__)


def register(broker: NatsBroker, ledger: Ledger, max_deliver: int) -> None:
    @broker.subscriber(
        subjects.JOBS_SUBMIT,
        stream=JStream(streams.JOBS_STREAM, declare=False),
        durable=streams.LEDGER_SUBMIT_CONSUMER,
        config=jetstream.ledger_submit_consumer(max_deliver),
        pull_sub=PullSub(batch_size=20, timeout=1.0),
        ack_policy=AckPolicy.MANUAL,
        title="jobs.submit",
    )
    async def on_submit(msg: NatsMessage) -> None:
        message: Msg = msg.raw_message
        data = message.data
        try:
            data = without_nul(message.data)
            with tracing.span(subjects.JOBS_SUBMIT, message.headers or {}):
                unusable = await handle_submission(ledger, data, message.headers or {})
        except Exception as exc:
            await _not_stored(broker, ledger, msg, data, exc)
            return
        if unusable is not None:  # names no job to fail: a dead letter is its record
            js = broker.connection.jetstream()
            await give_up(
                js, message, streams.LEDGER_SUBMIT_CONSUMER, unusable, terminate=msg.reject
            )
            return
        await msg.ack()


async def _not_stored(
    broker: NatsBroker, ledger: Ledger, msg: NatsMessage, data: bytes, exc: Exception
) -> None:
    """Stored or refused, never dropped (services/ledger/poison.py): a database away is
    waited out (the consumer's max_deliver is unbounded by default), at most 30 s
    between tries; a submission the database refuses is given up, as a failed job
    when it names one."""
    message: Msg = msg.raw_message
    delivered = message.metadata.num_delivered or 1
    decided = poison.verdict(
        unavailable=pg_errors.unavailable(exc), refused=pg_errors.refused(exc), delivered=delivered
    )
    if decided is poison.Verdict.RETRY:
        delay = poison.retry_delay_s(delivered)
        log.warning(
            "submission not stored, will retry",
            error=str(exc),
            delivered=delivered,
            retry_in_s=delay,
        )
        SUBMISSIONS_RETRIED.inc()
        await msg.nack(delay=delay)
        return
    reason = f"refused by the ledger: {type(exc).__name__}: {exc}"
    await _record_refusal(ledger, data, reason, message.headers or {})
    js = broker.connection.jetstream()
    await give_up(js, message, streams.LEDGER_SUBMIT_CONSUMER, reason, terminate=msg.reject)


async def _record_refusal(
    ledger: Ledger, data: bytes, reason: str, headers: dict[str, str]
) -> None:
    job_id = raw.job_id(data)
    if job_id is None:
        return
    fields = raw.json_object(data)
    with contextlib.suppress(Exception):  # the dead letter records it in any case
        await ledger.reject(
            job_id,
            str(fields.get("owner") or "default")[:200],
            str(fields.get("type") or "unknown")[:64],
            ErrorInfo(code=ErrorCode.INVALID_MESSAGE, message=reason[:1000]),
            headers.get("Nats-Msg-Id"),
        )


async def handle_submission(ledger: Ledger, data: bytes, headers: dict[str, str]) -> str | None:
    """Store one `SubmitJob` published on NATS, or record why it was rejected.

    A rejection whose payload names a job id becomes a failed job (the submitter follows
    `jobs.events.<job_id>` and sees `JobFailed`); for one with no usable id the reason
    is returned, for the caller to record it as a dead letter.
    """
    try:
        submit = SubmitJob.model_validate_json(data)
    except ValidationError as exc:
        fields = raw.json_object(data)
        job_id = raw.job_id(data)
        codes = {str(e["loc"][0]) if e["loc"] else "" for e in exc.errors()}
        code = ErrorCode.UNKNOWN_JOB_TYPE if "type" in codes else ErrorCode.INVALID_MESSAGE
        message = first_error(exc)
        log.warning("invalid submission", job_id=str(job_id), code=code.value, error=message)
        if job_id is not None:
            await ledger.reject(
                job_id,
                str(fields.get("owner") or "default"),
                str(fields.get("type") or "unknown")[:64],
                ErrorInfo(code=code.value, message=message),
                headers.get("Nats-Msg-Id"),
            )
            return None
        return f"not a SubmitJob naming a job: {message}"
    await ledger.submit(submit, source="nats", record_rejection=True)
    return None
