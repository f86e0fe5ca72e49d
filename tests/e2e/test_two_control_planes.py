"""Two gateways and two ledgers at once on one PostgreSQL and one NATS: the dispatcher,
the webhook sender, the janitor and the result cache each do their work once."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from contracts import JobType
from contracts.subjects import run_subject
from tests.support.client import Api
from tests.support.stack import Stack, start_stack
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import WebhookReceiver

JOBS = 12


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "converter", "gateway")


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {
        "WEBHOOK_SECRET": "two-planes",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_BACKOFF_S": "0.3",
        "JANITOR_INTERVAL_S": "0.5",
        "RETRIEVAL_GRACE_S": "1",
        "CONVERTER_MAX_CONCURRENT_JOBS": "2",
    }


@pytest.fixture(scope="module")
def second(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Another ledger and gateway on the same PostgreSQL, NATS and bucket."""
    env = {k: v for k, v in stack["ledger"].env.items() if k not in ("HEALTH_PORT", "PORT")}
    other = start_stack(
        stack.nats_url,
        stack.database_url,
        env,
        tmp_path_factory.mktemp("second-logs"),
        names=("ledger", "gateway"),
    )
    yield other
    other.stop()


def run_commands(database_url: str, job_type: JobType, job_ids: list[str]) -> Counter[str]:
    """How many run commands each job was given, and published (a double dispatch by
    the two ledgers shows as 2). Re-publishing one row is deduplicated by JetStream."""

    async def query() -> Counter[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT convert_from(payload, 'UTF8')::jsonb->>'job_id' AS job_id FROM outbox"
                " WHERE subject = $1 AND published_at IS NOT NULL",
                run_subject(job_type),
            )
        finally:
            await conn.close()
        return Counter(r["job_id"] for r in rows if r["job_id"] in job_ids)

    return asyncio.run(query())


def events_of(database_url: str, job_ids: list[str]) -> dict[str, list[str]]:
    async def query() -> dict[str, list[str]]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT job_id::text, kind FROM job_events WHERE job_id = ANY($1::uuid[])"
                " ORDER BY seq",
                job_ids,
            )
        finally:
            await conn.close()
        out: dict[str, list[str]] = {j: [] for j in job_ids}
        for row in rows:
            out[row["job_id"]].append(row["kind"])
        return out

    return asyncio.run(query())


def test_jobs_through_both_planes_run_once_and_call_back_once(
    stack: Stack, second: Stack, speech_mp3: Path, receiver: WebhookReceiver
) -> None:
    apis = [Api(stack.gateway_url), Api(second.gateway_url)]
    file_id = apis[0].upload(speech_mp3)["id"]
    jobs = [
        apis[i % 2].submit(
            file_id,
            type="convert",
            options={"preset": "audio_wav_16k_mono"},
            cache=False,
            callback_url=receiver.url,
        )
        for i in range(JOBS)
    ]
    ids = [j["id"] for j in jobs]
    for i, job_id in enumerate(ids):  # each read through the other gateway
        assert apis[(i + 1) % 2].wait(job_id, 180)["status"] == "completed"

    got = receiver.wait_for(JOBS, 60)
    time.sleep(2)  # a second delivery would come within a few backoffs (0.3 s doubling)
    delivered = Counter(json.loads(r.body)["job_id"] for r in receiver.received)
    assert delivered == dict.fromkeys(ids, 1), got

    commands = run_commands(stack.database_url, JobType.CONVERT, ids)
    assert {j: commands[j] for j in ids} == dict.fromkeys(ids, 1)
    for job_id, kinds in events_of(stack.database_url, ids).items():
        assert kinds.count("started") == 1 and kinds.count("completed") == 1, (job_id, kinds)


def test_each_plane_sees_the_others_cache_and_expiry(
    stack: Stack, second: Stack, speech_mp3: Path
) -> None:
    first_api, second_api = Api(stack.gateway_url), Api(second.gateway_url)
    options = {"preset": "audio_wav_16k_mono", "start_s": 0.5}
    original = first_api.submit(first_api.upload(speech_mp3)["id"], type="convert", options=options)
    assert first_api.wait(original["id"], 120)["status"] == "completed"
    again = second_api.submit(second_api.upload(speech_mp3)["id"], type="convert", options=options)
    result = second_api.wait(again["id"], 60)["result"]
    assert result["cached"] is True and result["cached_from"] == original["id"]

    short = second_api.submit(
        second_api.upload(speech_mp3)["id"],
        type="convert",
        options={"preset": "audio_wav_16k_mono"},
        cache=False,
        retention_hours=0.0005,  # 1.8 s
    )
    assert second_api.wait(short["id"], 120)["status"] == "completed"

    def expired() -> httpx.Response | None:
        resp = first_api.http.get(f"/v1/jobs/{short['id']}")
        return resp if resp.status_code == 410 else None

    wait_until(expired, 30, "the job answering 410")
    kinds = events_of(stack.database_url, [short["id"]])[short["id"]]
    assert kinds.count("expired") == 1, kinds  # one janitor expired it, not both
