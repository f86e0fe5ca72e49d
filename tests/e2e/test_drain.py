"""A backlog drained: jobs queued while no worker runs all end exactly once when one
starts (the drain benchmark times the same at 100, 1,000 and 10,000 jobs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.drain import commands_left, ledger_counts, submit_many, wait_drained
from tests.support.fake_llm import FakeLlm
from tests.support.stack import Stack
from tests.support.waiting import wait_until

QUEUED = 300
SOURCE = (
    "1\n00:00:01,000 --> 00:00:02,000\nteh first cue\n\n"
    "2\n00:00:03,000 --> 00:00:04,000\nand teh second\n"
)


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "srt-fixer", "gateway")


@pytest.fixture(scope="module")
def stack_env(llm: FakeLlm) -> dict[str, str]:
    return {"LLM_API_BASE": llm.api_base, "LLM_MODEL": "openai/fake-model", "LLM_API_KEY": "k"}


def test_a_queued_backlog_drains_to_exact_counts(
    stack: Stack, llm: FakeLlm, tmp_path: Path
) -> None:
    api = Api(stack.gateway_url)
    path = tmp_path / "cues.srt"
    path.write_text(SOURCE)
    file_id = api.upload(path, "application/x-subrip")["id"]
    fixer = stack["srt-fixer"]
    fixer.stop()  # its durable consumer stays: the commands wait on JetStream

    # cache off: every job must reach the worker, not the ledger's result cache
    body = {"type": "fix_srt", "file_id": file_id, "cache": False}
    ids = asyncio.run(submit_many(stack.gateway_url, body, QUEUED))
    assert len(set(ids)) == QUEUED
    queued = asyncio.run(ledger_counts(stack.database_url, ids))
    assert queued.by_status == {"pending": QUEUED}
    wait_until(
        lambda: asyncio.run(commands_left(stack.nats_url, "fix_srt"))[0] == QUEUED,
        30,
        "one command per job on JetStream",
    )

    calls_before = llm.calls
    fixer.start()
    fixer.wait_ready()
    asyncio.run(wait_drained(stack.database_url, ids, timeout_s=300))

    done = asyncio.run(ledger_counts(stack.database_url, ids))
    assert done.by_status == {"completed": QUEUED}, done
    # exactly once: one start and one outcome per job, nothing failed or run twice
    assert done.events["started"] == done.jobs_with["started"] == QUEUED, done
    assert done.events["completed"] == done.jobs_with["completed"] == QUEUED, done
    assert not {"failed", "cancelled"} & done.events.keys(), done
    assert llm.calls - calls_before == QUEUED  # one call per job (two cues: one chunk)
    assert asyncio.run(commands_left(stack.nats_url, "fix_srt")) == (0, 0)
    assert done.drain_s > 0
