"""A submission on `jobs.submit` during a PostgreSQL outage is stored once the database
is back — not dropped after a few quick retries; meanwhile the API says 503 (never 404)
for a job that exists, and the gateway is not ready."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest

from contracts import JobGetRequest, JobResponse, SubmitJob, streams, subjects
from services.devstack import infra, postgres
from tests.support.stack import Stack
from tests.support.waiting import async_wait_until


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "gateway")


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[infra.Proc]]:
    """A PostgreSQL of this module's own, to stop and start (a list: restarts replace it)."""
    data = tmp_path_factory.mktemp("pg") / "data"
    procs = [postgres.start_postgres(data, durable=False)]
    yield procs
    procs[-1].stop()


@pytest.fixture(scope="module")
def module_database_url(own_postgres: list[infra.Proc]) -> str:
    return own_postgres[0].url


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


async def test_a_submission_during_a_database_outage_is_stored_when_it_is_back(
    stack: Stack, own_postgres: list[infra.Proc]
) -> None:
    nc = await nats.connect(stack.nats_url)
    try:
        job_id = uuid.uuid4()
        # Names a file that does not exist: once stored, the job is a recorded refusal
        # (failed, file_not_found) — what matters is that it is stored at all.
        submit = SubmitJob(job_id=job_id, type="transcribe", file_id=uuid.uuid4())  # type: ignore[arg-type]
        existing = await stored_job(nc, await submit_unknown_file(nc))
        pg = own_postgres[-1]
        pg.stop()
        await assert_outage_is_503(stack, existing)
        ack = await nc.jetstream().publish(
            subjects.JOBS_SUBMIT, submit.model_dump_json().encode(), stream=streams.JOBS_STREAM
        )
        assert ack.seq
        # Longer than the ~20 s of quick retries after which a submission used to be left
        # in the stream for good.
        await asyncio.sleep(25)
        data_dir = Path(pg.log_path).parent / "data"
        own_postgres.append(postgres.start_postgres(data_dir, port=port_of(pg.url), durable=False))

        reply = await stored_job(nc, job_id)
    finally:
        await nc.drain()
    assert reply.job is not None and reply.job.status.value == "failed"
    assert reply.job.error is not None and reply.job.error.code == "file_not_found"


async def submit_unknown_file(nc: nats.NATS) -> uuid.UUID:
    job_id = uuid.uuid4()
    submit = SubmitJob(job_id=job_id, type="transcribe", file_id=uuid.uuid4())  # type: ignore[arg-type]
    await nc.jetstream().publish(subjects.JOBS_SUBMIT, submit.model_dump_json().encode())
    return job_id


async def stored_job(nc: nats.NATS, job_id: uuid.UUID) -> JobResponse:
    async def stored() -> JobResponse | None:
        req = JobGetRequest(job_id=job_id, owner="default").model_dump_json().encode()
        try:
            reply = JobResponse.model_validate_json(
                (await nc.request(subjects.LEDGER_JOBS_GET, req, timeout=2)).data
            )
        except Exception:
            return None
        return reply if reply.job is not None else None

    return await async_wait_until(stored, 90, "the submission stored")


async def assert_outage_is_503(stack: Stack, existing: JobResponse) -> None:
    assert existing.job is not None
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:

        async def refused() -> httpx.Response | None:
            r = await http.get(f"/v1/jobs/{existing.job.id}")  # type: ignore[union-attr]
            return r if r.status_code != 200 else None  # the pool notices the outage

        r = await async_wait_until(refused, 30, "the outage seen by the API")
        assert r.status_code == 503, r.text  # it exists: never 404
        assert r.json()["error"]["code"] == "unavailable" and r.headers.get("retry-after")
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["ledger"] is False
