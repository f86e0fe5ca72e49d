"""What every worker's job sees: its options, validated, and a cancel flag."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contracts import ConvertOptions, RunJob, SrtOptions
from services.common.errors import InvalidOptions
from services.common.job_context import JobCancelledError, JobContext
from services.common.worker_policy import WorkerPolicy


def context(options: dict[str, object]) -> JobContext:
    run = RunJob(
        job_id=uuid.uuid4(),
        type="convert",
        file_id=uuid.uuid4(),  # type: ignore[arg-type]
        input_key="files/x",
        options=options,
    )
    return JobContext(run, 1, publisher=None, policy=WorkerPolicy())  # type: ignore[arg-type]


async def test_options_are_parsed_with_defaults() -> None:
    assert context({"preset": "mp3"}).options(ConvertOptions).preset == "mp3"
    assert context({}).options(SrtOptions).max_chars_per_line == 42


async def test_invalid_options_fail_the_job_naming_the_field() -> None:
    with pytest.raises(InvalidOptions, match=r"options\.crf"):
        context({"crf": 99}).options(ConvertOptions)
    with pytest.raises(InvalidOptions, match=r"options: .*has no video"):
        context({"preset": "mp3", "max_height": 100}).options(ConvertOptions)


async def test_cancel_stops_work_in_flight() -> None:
    ctx = context({})
    asyncio.get_running_loop().call_later(0.1, ctx.cancel)
    with pytest.raises(JobCancelledError):
        # The sleep is the job: work that would take 10 s, cancelled 0.1 s into it.
        await ctx.cancellable(asyncio.sleep(10))
