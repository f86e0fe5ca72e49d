"""A submission on `jobs.submit` during a PostgreSQL outage is stored once the database
is back — not dropped after a few quick retries."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from contracts import JobGetRequest, JobResponse, SubmitJob, streams, subjects
from services.devstack import infra, postgres
from tests.support.stack import Stack
from tests.support.waiting import async_wait_until


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger",)


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
        pg = own_postgres[-1]
        pg.stop()
        ack = await nc.jetstream().publish(
            subjects.JOBS_SUBMIT, submit.model_dump_json().encode(), stream=streams.JOBS_STREAM
        )
        assert ack.seq
        # Longer than the ~20 s of quick retries after which a submission used to be left
        # in the stream for good.
        await asyncio.sleep(25)
        data_dir = Path(pg.log_path).parent / "data"
        own_postgres.append(postgres.start_postgres(data_dir, port=port_of(pg.url), durable=False))

        async def stored() -> JobResponse | None:
            req = JobGetRequest(job_id=job_id, owner="default").model_dump_json().encode()
            try:
                reply = JobResponse.model_validate_json(
                    (await nc.request(subjects.LEDGER_JOBS_GET, req, timeout=2)).data
                )
            except Exception:
                return None
            return reply if reply.job is not None else None

        reply = await async_wait_until(stored, 90, "the submission stored")
    finally:
        await nc.drain()
    assert reply.job is not None and reply.job.status.value == "failed"
    assert reply.job.error is not None and reply.job.error.code == "file_not_found"
