"""A ledger whose database is down answers `unavailable`: the gateway says 503 with
`Retry-After` and not ready — never 404 for a job or file that exists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from contracts import ErrorInfo, FileResponse, JobListResponse, JobResponse
from services.gateway import errors
from services.gateway.adapters.ledger import LedgerClient
from services.gateway.errors import ApiError

DOWN = ErrorInfo(code="unavailable", message="ledger error: ConnectionRefusedError")
MISSING = ErrorInfo(code="job_not_found", message="job … not found")


@dataclass
class Reply:
    data: bytes


class LedgerAnswering:
    """Stands in for the NATS connection: every request gets `reply`."""

    def __init__(self, reply: BaseModel) -> None:
        self.reply = reply

    async def request(self, *_args: object, **_kwargs: object) -> Reply:
        return Reply(self.reply.model_dump_json().encode())


def client(reply: BaseModel) -> LedgerClient:
    return LedgerClient(LedgerAnswering(reply), timeout_s=1.0)  # type: ignore[arg-type]


async def test_a_job_read_during_a_database_outage_is_503_not_404() -> None:
    with pytest.raises(ApiError) as down:
        await client(JobResponse(error=DOWN)).get_job(uuid.uuid4(), "t")
    assert (down.value.status, down.value.code) == (503, "unavailable")
    with pytest.raises(ApiError) as missing:
        await client(JobResponse(error=MISSING)).get_job(uuid.uuid4(), "t")
    assert (missing.value.status, missing.value.code) == (404, "job_not_found")


async def test_a_file_read_during_a_database_outage_is_503_not_404() -> None:
    with pytest.raises(ApiError) as down:
        await client(FileResponse(error=DOWN)).get_file(uuid.uuid4(), "t")
    assert down.value.status == 503


async def test_a_ledger_without_its_database_is_not_ready() -> None:
    assert await client(JobListResponse()).answers(1.0)
    assert not await client(JobListResponse(error=DOWN)).answers(1.0)


def test_every_503_tells_the_client_when_to_retry() -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/down")
    async def down() -> None:
        raise ApiError(503, "unavailable", "the job ledger is not answering")

    response = TestClient(app).get("/down")
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"]["code"] == "unavailable"
