"""transcriber entry point: load the model once, then pull `transcribe` and `generate_srt`.

Each job type has its own durable consumer; all share the model slots
(`MAX_CONCURRENT_JOBS`), so a busy replica may hold one job of the other type, waiting
(and heartbeating) until a slot frees.
"""

from __future__ import annotations

import asyncio
import os
import time

import uvloop
from faststream import AckPolicy
from faststream.nats import JStream, NatsMessage, PullSub

from contracts import JobType, streams
from services.common.http import HealthServer
from services.common.logging import configure_logging, get_logger
from services.common.messaging import (
    EventPublisher,
    make_broker,
    stream_settings,
    wait_for_stop_signal,
)
from services.common.startup import wait_for
from services.common.storage import ObjectStore
from services.common.worker import JobRunner, WorkerPolicy

from .engine import WhisperEngine, choose_device
from .jobs import TranscriberJobs
from .metrics import IN_FLIGHT, JOB_SECONDS, JOBS, MODEL_LOAD_SECONDS
from .model_store import resolve_model
from .settings import TranscriberSettings

log = get_logger(__name__)
HANDLED = (JobType.TRANSCRIBE, JobType.GENERATE_SRT)


def build_engine(settings: TranscriberSettings) -> WhisperEngine:
    device = choose_device(settings.whisper_device, settings.whisper_compute_type)
    model_dir = resolve_model(settings.whisper_model, settings.model_cache_dir)
    slots = settings.max_concurrent_jobs
    cpu_threads = settings.cpu_threads or (
        max(1, (os.cpu_count() or 1) // slots) if slots > 1 else 0
    )
    engine = WhisperEngine(model_dir, device, cpu_threads=cpu_threads, num_workers=slots)
    started = time.perf_counter()
    engine.load()
    MODEL_LOAD_SECONDS.set(time.perf_counter() - started)
    log.info(
        "model loaded",
        model=str(model_dir),
        device=device.device,
        compute_type=device.compute_type,
        seconds=round(time.perf_counter() - started, 2),
    )
    return engine


async def run(settings: TranscriberSettings) -> None:
    # The model is loaded before we pull anything: a replica that cannot load never takes work.
    engine = await asyncio.to_thread(build_engine, settings)
    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)

    broker = make_broker(settings, "transcriber")
    await wait_for("nats", broker.connect)
    js = broker.connection.jetstream()
    await streams.ensure_streams(js, stream_settings(settings))
    publisher = EventPublisher(js, "transcriber")
    policy = WorkerPolicy(
        max_deliver=settings.max_deliver,
        heartbeat_s=settings.heartbeat_s,
        progress_min_interval_s=settings.progress_min_interval_s,
    )
    jobs = TranscriberJobs(engine, store, settings.work_dir, settings.max_concurrent_jobs)
    execute = {JobType.TRANSCRIBE: jobs.transcribe, JobType.GENERATE_SRT: jobs.generate_srt}

    for job_type in HANDLED:
        consumer = streams.worker_consumer(
            job_type, ack_wait_s=settings.ack_wait_s, max_deliver=settings.max_deliver
        )
        await streams.ensure_consumer(js, streams.JOBS_STREAM, consumer)

        def record(outcome: str, seconds: float, t: str = job_type.value) -> None:
            JOBS.labels(type=t, outcome=outcome).inc()
            JOB_SECONDS.labels(type=t).observe(seconds)

        runner = JobRunner(
            broker.connection, publisher, execute[job_type], policy, job_type.value, record
        )

        async def handle(
            msg: NatsMessage, runner: JobRunner = runner, t: str = job_type.value
        ) -> None:
            IN_FLIGHT.labels(type=t).inc()
            try:
                await runner.handle(msg)
            finally:
                IN_FLIGHT.labels(type=t).dec()

        broker.subscriber(
            consumer.filter_subject or "",
            stream=JStream(streams.JOBS_STREAM, declare=False),
            durable=consumer.durable_name,
            config=consumer,
            # One fetch per free slot: the replica never holds more jobs than it can run.
            pull_sub=PullSub(batch_size=settings.max_concurrent_jobs, timeout=5.0),
            ack_policy=AckPolicy.MANUAL,
            title=consumer.filter_subject,
        )(handle)

    async def ready() -> dict[str, bool]:
        return {"model": True, "nats": broker.connection.is_connected}

    health = HealthServer(settings.health_host, settings.health_port, ready)
    await broker.start()
    if settings.health_port:
        await health.start()
    log.info("transcriber started", handles=[t.value for t in HANDLED])
    try:
        await wait_for_stop_signal()
    finally:
        log.info("transcriber stopping")
        await broker.stop()
        if settings.health_port:
            await health.stop()


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    settings = TranscriberSettings()
    configure_logging("transcriber", settings.log_level, settings.log_json)
    uvloop.run(run(settings))


if __name__ == "__main__":
    main()
