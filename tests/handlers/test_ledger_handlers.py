"""The ledger's FastStream handlers on the in-memory TestNatsBroker.

The ledger's use cases are replaced by a recording fake: these tests pin down what the
handlers themselves do — parse, route, answer errors instead of staying silent.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from faststream.nats import NatsBroker, TestNatsBroker

from contracts import (
    DeadLetterListResponse,
    ErrorInfo,
    JobGetRequest,
    JobListResponse,
    JobResponse,
    SubmitJob,
    streams,
    subjects,
)
from services.ledger.handlers import register
from services.ledger.settings import LedgerSettings


class RecordingLedger:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def submit(
        self, submit: SubmitJob, *, source: str, record_rejection: bool
    ) -> JobResponse:
        self.calls.append(("submit", (submit, source, record_rejection)))
        return JobResponse(error=ErrorInfo(code="file_not_found", message="no such file"))

    async def reject(
        self,
        job_id: uuid.UUID,
        owner: str,
        job_type: str,
        error: ErrorInfo,
        correlation_id: str | None,
    ) -> JobResponse:
        self.calls.append(("reject", (job_id, job_type, error.code)))
        return JobResponse(error=error)

    async def get_job(self, req: JobGetRequest) -> JobResponse:
        raise ConnectionError("database is down")

    async def list_jobs(self, req: Any) -> JobListResponse:
        self.calls.append(("list", req))
        return JobListResponse(items=[])

    register_file = get_file = cancel = delete_file = webhooks_of = queue_stats = list_jobs

    @property
    def dead_letters(self) -> RecordingLedger:
        return self  # record() and list() of the dead-letters use case

    async def record(self, letter: Any) -> bool:
        self.calls.append(("dead_letter", letter))
        return True

    async def list(self, req: Any) -> DeadLetterListResponse:
        return DeadLetterListResponse()


def make() -> tuple[NatsBroker, RecordingLedger]:
    broker = NatsBroker()
    fake = RecordingLedger()
    register(broker, fake, LedgerSettings(jetscribe_dev_mode=True))  # type: ignore[arg-type]
    return broker, fake


async def test_a_request_that_does_not_parse_is_answered_with_invalid_request() -> None:
    broker, _ = make()
    async with TestNatsBroker(broker) as br:
        reply = await br.request(b"{not json", subjects.LEDGER_JOBS_GET)
    body = JobResponse.model_validate_json(reply.body)
    assert body.error is not None and body.error.code == "invalid_request"


async def test_a_failing_use_case_is_answered_with_unavailable_not_silence() -> None:
    broker, _ = make()
    async with TestNatsBroker(broker) as br:
        req = JobGetRequest(job_id=uuid.uuid4(), owner="default").model_dump_json()
        reply = await br.request(req.encode(), subjects.LEDGER_JOBS_GET)
    body = JobResponse.model_validate_json(reply.body)
    assert body.error is not None and body.error.code == "unavailable"


async def test_gateway_creates_go_to_submit_without_recording_rejections() -> None:
    broker, fake = make()
    submit = SubmitJob(job_id=uuid.uuid4(), type="transcribe", file_id=uuid.uuid4())  # type: ignore[arg-type]
    async with TestNatsBroker(broker) as br:
        reply = await br.request(
            json.dumps({"submit": json.loads(submit.model_dump_json())}),
            subjects.LEDGER_JOBS_CREATE,
        )
    assert JobResponse.model_validate_json(reply.body).error.code == "file_not_found"  # type: ignore[union-attr]
    [(name, (got, source, record))] = fake.calls
    assert (name, got.job_id, source, record) == ("submit", submit.job_id, "gateway", False)


async def test_an_upstream_submission_with_an_unknown_type_is_rejected_by_id() -> None:
    broker, fake = make()
    job_id = uuid.uuid4()
    async with TestNatsBroker(broker) as br:
        await br.publish(
            json.dumps({"job_id": str(job_id), "type": "teleport"}),
            subjects.JOBS_SUBMIT,
            stream=streams.JOBS_STREAM,
        )
    assert fake.calls == [("reject", (job_id, "teleport", "unknown_job_type"))]


async def test_an_upstream_submission_records_its_rejections() -> None:
    broker, fake = make()
    submit = SubmitJob(job_id=uuid.uuid4(), type="transcribe", file_id=uuid.uuid4())  # type: ignore[arg-type]
    async with TestNatsBroker(broker) as br:
        await br.publish(submit.model_dump_json(), subjects.JOBS_SUBMIT, stream=streams.JOBS_STREAM)
    [(name, (got, source, record))] = fake.calls
    assert (name, got, source, record) == ("submit", submit, "nats", True)


async def test_garbage_without_a_job_id_is_given_up_not_stored() -> None:
    broker, fake = make()
    async with TestNatsBroker(broker) as br:
        await br.publish(b"\x00\x01", subjects.JOBS_SUBMIT, stream=streams.JOBS_STREAM)
    assert fake.calls == []  # nothing stored, no job failed: a dead letter (tests/e2e)
