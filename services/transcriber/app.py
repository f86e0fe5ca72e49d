"""The transcriber's wiring: load the model once, then pull `transcribe` and `generate_srt`.

Each job type has its own durable consumer; all share the model slots
(`TRANSCRIBER_MAX_CONCURRENT_JOBS`), so a busy replica may hold one job of the other
type, waiting (and heartbeating) until a slot frees.
"""

from __future__ import annotations

import asyncio
import os
import time

from contracts import JobType
from services.common.adapters.s3 import ObjectStore
from services.common.logging import get_logger
from services.common.startup import wait_for
from services.common.worker_app import run_worker

from .adapters.model_store import resolve_model
from .adapters.whisper import WhisperEngine, choose_device
from .handlers import TranscriberJobs
from .metrics import MODEL_LOAD_SECONDS
from .settings import TranscriberSettings

log = get_logger(__name__)


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
    jobs = TranscriberJobs(engine, store, settings.work_dir, settings.max_concurrent_jobs)
    await run_worker(
        "transcriber",
        settings,
        {JobType.TRANSCRIBE: jobs.transcribe, JobType.GENERATE_SRT: jobs.generate_srt},
        identity=engine.name,
        store=store,
    )
