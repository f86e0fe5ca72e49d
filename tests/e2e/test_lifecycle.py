"""Lifecycle pieces that exist already: idempotent submission and cancel."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.support.client import Api
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url)


def test_the_same_idempotency_key_returns_the_same_job(api: Api, speech_mp3: Path) -> None:
    file_id = api.upload(speech_mp3)["id"]
    key = str(uuid.uuid4())
    body = {"type": "transcribe", "file_id": file_id, "options": {"beam_size": 1}}
    first = api.http.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
    again = api.http.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    other = api.http.post("/v1/jobs", json=body, headers={"Idempotency-Key": key + "-2"})
    assert other.json()["id"] != first.json()["id"]
    api.wait(first.json()["id"])


def test_a_cancelled_pending_job_never_runs(api: Api, stack: Stack, speech_mp3: Path) -> None:
    stack["transcriber"].stop()
    try:
        job = api.submit(api.upload(speech_mp3)["id"])
        cancelled = api.http.post(f"/v1/jobs/{job['id']}/cancel")
        assert cancelled.status_code == 202
        assert cancelled.json()["status"] == "cancelled"
    finally:
        stack["transcriber"].start()
        stack["transcriber"].wait_ready()
    # A later job runs, so the cancelled one (ahead of it) was taken and skipped.
    later = api.submit(api.upload(speech_mp3)["id"], options={"beam_size": 1})
    assert api.wait(later["id"])["status"] == "completed"
    assert api.get(job["id"])["status"] == "cancelled"
    kinds = asyncio.run(event_kinds(stack.database_url, job["id"]))
    assert "started" not in kinds and kinds[-1] == "cancelled"


def test_cancelling_a_finished_job_is_409(api: Api, speech_mp3: Path) -> None:
    job = api.submit(api.upload(speech_mp3)["id"], options={"beam_size": 1})
    assert api.wait(job["id"])["status"] == "completed"
    r = api.http.post(f"/v1/jobs/{job['id']}/cancel")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "job_finished"


async def event_kinds(database_url: str, job_id: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT kind FROM job_events WHERE job_id = $1::uuid ORDER BY seq", job_id
        )
    finally:
        await conn.close()
    return [r["kind"] for r in rows]
