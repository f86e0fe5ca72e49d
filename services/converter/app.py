"""The converter's wiring: pull `convert` jobs and run them through ffmpeg."""

from __future__ import annotations

from contracts import JobType
from services.common.adapters.s3 import ObjectStore
from services.common.startup import wait_for
from services.common.worker_app import run_worker

from .adapters.ffmpeg import ffmpeg_version
from .handlers import ConvertJob
from .settings import ConverterSettings


async def run(settings: ConverterSettings) -> None:
    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)
    job = ConvertJob(
        store, settings.work_dir, settings.max_concurrent_jobs, settings.ffmpeg_threads
    )
    await run_worker(
        "converter",
        settings,
        {JobType.CONVERT: job},
        identity=ffmpeg_version(),
        store=store,
    )
