"""converter entry point: pull `convert` jobs and run them through ffmpeg."""

from __future__ import annotations

import uvloop

from contracts import JobType
from services.common.logging import configure_logging
from services.common.startup import wait_for
from services.common.storage import ObjectStore
from services.common.tracing import configure_tracing
from services.common.worker_app import run_worker

from .ffmpeg_runner import ffmpeg_version
from .jobs import ConvertJob
from .settings import ConverterSettings


async def run(settings: ConverterSettings) -> None:
    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)
    job = ConvertJob(
        store, settings.work_dir, settings.max_concurrent_jobs, settings.ffmpeg_threads
    )
    policy = settings.policy()
    await run_worker(
        "converter",
        settings,
        {JobType.CONVERT: job},
        policy,
        slots=settings.max_concurrent_jobs,
        ack_wait_s=settings.ack_wait_s,
        identity=ffmpeg_version(),
        store=store,
        shutdown_grace_s=settings.shutdown_grace_s,
    )


def main() -> None:
    settings = ConverterSettings()
    configure_logging("converter", settings.log_level, settings.log_json)
    configure_tracing("converter")
    uvloop.run(run(settings))


if __name__ == "__main__":
    main()
