"""What every worker's job sees: its options, validated, and a cancel flag."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contracts import ConvertOptions, JobEventBase, JobProgressed, RunJob, SrtOptions
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


class Recorder:
    def __init__(self) -> None:
        self.progress: list[float] = []

    async def publish(self, event: JobEventBase, timeout: float = 10.0) -> None:
        assert isinstance(event, JobProgressed)
        self.progress.append(event.progress)


def reporting_context(interval_s: float) -> tuple[JobContext, Recorder]:
    recorder = Recorder()
    run = RunJob(job_id=uuid.uuid4(), type="transcribe", file_id=uuid.uuid4(), input_key="files/x")
    policy = WorkerPolicy(progress_min_interval_s=interval_s)
    return JobContext(run, 1, publisher=recorder, policy=policy), recorder


async def test_no_progress_is_published_once_the_job_is_cancelled() -> None:
    ctx, recorder = reporting_context(interval_s=0.2)
    ctx.report_progress(0.1)
    await asyncio.sleep(0.05)
    ctx.report_progress(0.2)  # waits for the throttle: the cancel comes first
    await asyncio.sleep(0.05)
    ctx.cancel()
    ctx.report_progress(0.3)  # the engine reporting once more before it sees the flag
    await asyncio.sleep(0.4)
    assert recorder.progress == [0.1]


async def test_no_progress_after_the_run_ends_but_completion_still_reaches_one() -> None:
    ctx, recorder = reporting_context(interval_s=0.2)
    ctx.report_progress(0.5)
    await asyncio.sleep(0.05)
    ctx.report_progress(0.7)
    await asyncio.sleep(0.01)
    ctx.stop_progress()
    ctx.report_progress(0.9)
    await asyncio.sleep(0.3)
    assert recorder.progress == [0.5]
    await ctx.complete_progress()
    assert recorder.progress == [0.5, 1.0]
