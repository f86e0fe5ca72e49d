"""Creations of concurrent submissions are written together (services/ledger/creations.py)
and each is answered as if it had been written alone."""

from __future__ import annotations

import asyncio
import uuid

from contracts import SubmitJob
from services.ledger.builders import pending
from services.ledger.creations import Creations
from services.ledger.metrics import CREATION_GROUP
from services.ledger.records import InputFile, NewJob
from tests.connected.conftest import LedgerFixture, register


def groups_written() -> tuple[float, float]:
    """(groups, jobs) the creation-group histogram has seen so far."""
    samples = {s.name: s.value for m in CREATION_GROUP.collect() for s in m.samples}
    return (
        samples["jetscribe_ledger_creation_group_jobs_count"],
        samples["jetscribe_ledger_creation_group_jobs_sum"],
    )


async def test_concurrent_submissions_share_statements_and_each_gets_its_own_rows(
    ledger: LedgerFixture,
) -> None:
    file_id = await register(ledger)
    groups_before, jobs_before = groups_written()
    submits = [
        SubmitJob(job_id=uuid.uuid4(), type="transcribe", file_id=file_id, cache=False)  # type: ignore[arg-type]
        for _ in range(40)
    ]
    replies = await asyncio.gather(
        *(ledger.ledger.submit(s, source="test", record_rejection=False) for s in submits)
    )
    assert all(r.created and r.job is not None for r in replies)
    assert [r.job.id for r in replies if r.job] == [s.job_id for s in submits]
    groups, jobs = groups_written()
    assert jobs - jobs_before == 40 and groups - groups_before < 40  # some went together

    for s in submits:
        kinds = await ledger.pool.fetch("SELECT kind FROM job_events WHERE job_id = $1", s.job_id)
        assert [k["kind"] for k in kinds] == ["queued"]
        # Its command is in the outbox under its id, and was published.
        command = await ledger.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE msg_id LIKE $1 || '%' AND subject LIKE 'jobs.run.%'",
            str(s.job_id),
        )
        assert command == 1


async def test_each_creation_gets_the_ids_of_its_own_outbox_rows(ledger: LedgerFixture) -> None:
    """The dispatcher marks rows published by these ids: a mix-up would publish one
    job's command and mark another's."""
    file_id = await register(ledger)
    file = InputFile(file_id, f"files/{file_id}", "a.wav", "0" * 64)
    creations = Creations(ledger.pool)
    planned = [
        pending(NewJob(id=uuid.uuid4(), owner="default", type="transcribe"), file)
        for _ in range(30)
    ]
    results = await asyncio.gather(*(creations.insert(p) for p in planned))
    for p, inserted in zip(planned, results, strict=True):
        assert inserted.created and inserted.job is not None and inserted.job.id == p.new.id
        rows = await ledger.pool.fetch(
            "SELECT id, msg_id FROM outbox WHERE id = ANY($1::bigint[])", inserted.outbox_ids
        )
        by_id = {r["id"]: r["msg_id"] for r in rows}
        assert [by_id[i] for i in inserted.outbox_ids] == [m.msg_id for m in p.outbox]


async def test_repeats_inside_one_group_create_one_job(ledger: LedgerFixture) -> None:
    file_id = await register(ledger)
    same_id = SubmitJob(job_id=uuid.uuid4(), type="transcribe", file_id=file_id)  # type: ignore[arg-type]
    keyed = [
        SubmitJob(job_id=uuid.uuid4(), type="transcribe", file_id=file_id, idempotency_key="k")  # type: ignore[arg-type]
        for _ in range(3)
    ]
    replies = await asyncio.gather(
        *(
            ledger.ledger.submit(s, source="test", record_rejection=False)
            for s in [same_id, same_id, *keyed]
        )
    )
    assert [r.created for r in replies[:2]].count(True) == 1
    assert {r.job.id for r in replies[:2] if r.job} == {same_id.job_id}
    assert [r.created for r in replies[2:]].count(True) == 1
    assert len({r.job.id for r in replies[2:] if r.job}) == 1
    assert await ledger.pool.fetchval("SELECT count(*) FROM jobs") == 2
    assert await ledger.pool.fetchval("SELECT count(*) FROM job_events") == 2


async def test_a_job_the_database_refuses_fails_alone(ledger: LedgerFixture) -> None:
    file_id = await register(ledger)
    file = InputFile(file_id, f"files/{file_id}", "a.wav", "0" * 64)
    creations = Creations(ledger.pool, in_flight=1)
    good = [
        pending(NewJob(id=uuid.uuid4(), owner="default", type="transcribe"), file) for _ in range(5)
    ]
    # NUL in text: PostgreSQL refuses the row (the ledger's intake strips it; here it is
    # put in directly to make a job only the database can refuse).
    bad = pending(
        NewJob(id=uuid.uuid4(), owner="default", type="transcribe", idempotency_key="a\x00b"),
        file,
    )
    results = await asyncio.gather(
        *(creations.insert(p) for p in [*good[:2], bad, *good[2:]]), return_exceptions=True
    )
    assert isinstance(results[2], Exception)
    assert all(not isinstance(r, Exception) and r.created for i, r in enumerate(results) if i != 2)
    assert await ledger.pool.fetchval("SELECT count(*) FROM jobs") == 5


async def test_a_creation_right_after_the_last_one_is_not_left_waiting(
    ledger: LedgerFixture,
) -> None:
    """One after another, each submitter woken by the answer before its writer has left:
    a writer that has found nothing more to write must not count as one still writing."""
    file_id = await register(ledger)
    file = InputFile(file_id, f"files/{file_id}", "a.wav", "0" * 64)
    creations = Creations(ledger.pool, in_flight=1)
    async with asyncio.timeout(20):
        for _ in range(20):
            planned = pending(NewJob(id=uuid.uuid4(), owner="default", type="transcribe"), file)
            assert (await creations.insert(planned)).created


async def test_a_repeated_id_in_one_group_is_answered_as_the_single_path_would(
    ledger: LedgerFixture,
) -> None:
    file_id = await register(ledger)
    file = InputFile(file_id, f"files/{file_id}", "a.wav", "0" * 64)
    creations = Creations(ledger.pool, in_flight=1)  # all of them in one group
    job_id = uuid.uuid4()
    mine, again, theirs = (
        pending(NewJob(id=job_id, owner=owner, type="transcribe"), file)
        for owner in ("default", "default", "other-tenant")
    )
    groups_before, _ = groups_written()
    first, second, third = await asyncio.gather(
        creations.insert(mine), creations.insert(again), creations.insert(theirs)
    )
    assert groups_written()[0] - groups_before == 1
    assert first.created and first.job is not None and first.job.owner == "default"
    assert not second.created and second.job is not None and second.job.id == job_id
    assert third.job is None  # another tenant's id: the submission answers ID_IN_USE
    assert await ledger.pool.fetchval("SELECT count(*) FROM job_events") == 1
    assert await ledger.pool.fetchval("SELECT count(*) FROM outbox") == 2  # queued + command
