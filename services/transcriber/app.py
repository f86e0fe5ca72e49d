"""The transcriber's wiring: load the model once, then pull `transcribe` and `generate_srt`.

Each job type has its own durable consumer; both share the replica's job slots
(`TRANSCRIBER_MAX_CONCURRENT_JOBS`), taken only while the batches ahead are not full
(`TRANSCRIBER_PREFETCH_CHUNKS`). The jobs held run side by side and their chunks are
decoded together in the engine's batches (adapters/batcher.py).
"""

from __future__ import annotations

import asyncio
import time

from contracts import JobType
from services.common.adapters.s3 import ObjectStore
from services.common.cores import usable_cores
from services.common.logging import get_logger
from services.common.slot_puller import DemandSlots
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
    cpu = device.device == "cpu"
    workers, threads = model_layout(settings, cpu, usable_cores())
    engine = WhisperEngine(
        model_dir,
        device,
        cpu_threads=threads,
        num_workers=workers,
        batch_wait_s=settings.transcriber_batch_wait_ms / 1000,
        max_batch=max_batch_chunks(settings, device.device),
        prepare_at_once=settings.transcriber_prepare_at_once or (1 if cpu else 4),
    )
    started = time.perf_counter()
    engine.load()
    MODEL_LOAD_SECONDS.set(time.perf_counter() - started)
    log.info(
        "model loaded",
        model=str(model_dir),
        device=device.device,
        compute_type=device.compute_type,
        model_workers=workers,
        threads_each=threads,
        seconds=round(time.perf_counter() - started, 2),
    )
    return engine


def model_layout(settings: TranscriberSettings, cpu: bool, cores: int) -> tuple[int, int]:
    """(model workers, threads each). On CPU one worker decoding a batch of one or two
    chunks leaves cores idle: several workers with fewer threads each decode more per
    second and give the first job its result as fast (measured on 2 cores: 2 x 1 thread
    did 1.4x the throughput of 1 x 2; ctranslate2 shares the weights between them). At
    most 4 by default, so that on a big machine each batch still gets several threads.
    On CUDA one worker: one large batch keeps the GPU busiest."""
    workers = settings.transcriber_model_workers or (min(cores, 4) if cpu else 1)
    threads = settings.cpu_threads or (max(1, cores // workers) if cpu else cores)
    return workers, threads


def max_batch_chunks(settings: TranscriberSettings, device: str) -> int:
    """On CUDA a batch is as large as jobs ask (`batch_size`); on CPU a batch of 2 is
    already as fast per chunk as any larger one, which would only delay its jobs."""
    return settings.transcriber_max_batch_chunks or (64 if device == "cuda" else 2)


def prefetch_chunks(settings: TranscriberSettings, device: str, max_batch: int) -> int:
    """Chunks waiting for a batch below which a replica takes another job. On CUDA two
    batches' worth: jobs cut their chunks on the CPU while the GPU decodes. On CPU one
    batch's worth: the cores are what every job waits for, and a job held beyond the
    next batch only takes them from the batches being decoded (its download, decode and
    chunk cutting). Measured on 2 cores (two model workers), eight 30-s clips at once,
    first result / all eight: two batches' worth 2.7 / 10.2 s, one batch's worth (2
    chunks) 2.3 / 9.3 s, one chunk 2.1 / 13.0 s (the workers then wait for work)."""
    return settings.transcriber_prefetch_chunks or (
        2 * max_batch if device == "cuda" else max_batch
    )


async def run(settings: TranscriberSettings) -> None:
    # The model is loaded before we pull anything: a replica that cannot load never takes work.
    engine = await asyncio.to_thread(build_engine, settings)
    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)
    prefetch = prefetch_chunks(settings, engine.device.device, engine.max_batch)
    jobs = TranscriberJobs(
        engine, store, settings.work_dir, prefetch, slots=settings.max_concurrent_jobs
    )
    try:
        await run_worker(
            "transcriber",
            settings,
            {JobType.TRANSCRIBE: jobs.transcribe, JobType.GENERATE_SRT: jobs.generate_srt},
            identity=engine.name,
            store=store,
            slots=DemandSlots(settings.max_concurrent_jobs, jobs.wants_work),
        )
    finally:
        # Threads still in the model when the interpreter exits can crash it (SIGSEGV
        # instead of exit 0): the batch in hand ends, then the jobs' threads.
        await asyncio.to_thread(engine.close)
        await asyncio.to_thread(jobs.close)
