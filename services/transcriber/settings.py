"""Settings of the transcriber."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from services.common.settings import WorkerSettings, renamed_env


def default_cache_dir() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jetscribe" / "models"


class TranscriberSettings(WorkerSettings):
    whisper_model: str = Field(
        default="base",
        description="'base' (the packaged model) or a CTranslate2 Whisper model directory.",
    )
    whisper_device: Literal["auto", "cpu", "cuda"] = "auto"
    whisper_compute_type: str = Field(
        default="auto", description="auto: float16 on CUDA, int8 on CPU."
    )
    cpu_threads: int = Field(
        default=0,
        ge=0,
        description="Threads of each model worker; 0: auto (cores / workers on CPU).",
    )
    max_concurrent_jobs: int = renamed_env(
        "TRANSCRIBER_MAX_CONCURRENT_JOBS",
        "MAX_CONCURRENT_JOBS",
        default=8,
        ge=1,
        le=64,
        description=(
            "Jobs a replica holds at most (their decoded audio is in memory); their chunks "
            "share the model's batches."
        ),
    )
    transcriber_prefetch_chunks: int = Field(
        default=0,
        ge=0,
        le=1024,
        description=(
            "A replica takes another job only while fewer chunks than this wait for a "
            "batch, leaving the rest of the queue to others; 0: two batches' worth on "
            "CUDA, one on CPU."
        ),
    )
    transcriber_max_batch_chunks: int = Field(
        default=0,
        ge=0,
        le=256,
        description=(
            "Chunks per model batch at most, whatever a job's batch_size; 0: auto (the "
            "job's batch_size on CUDA; 2 on CPU, where bigger batches are no faster and "
            "only delay every job in them)."
        ),
    )
    transcriber_batch_wait_ms: int = Field(
        default=50,
        ge=0,
        le=5000,
        description="How long a batch waits to fill up.",
    )
    transcriber_model_workers: int = Field(
        default=0,
        ge=0,
        le=16,
        description=(
            "Batches decoded at once (model workers, sharing the weights); "
            "0: auto (on CPU one per core, at most 4: one small batch leaves cores idle; "
            "1 on CUDA)."
        ),
    )
    transcriber_prepare_at_once: int = Field(
        default=0,
        ge=0,
        le=64,
        description=(
            "Jobs cutting their audio into chunks (features, language detection) at once; "
            "0: auto (1 on CPU, so the first job is not slowed by all the others; 4 on CUDA)."
        ),
    )
    model_cache_dir: Path = Field(default_factory=default_cache_dir)
    work_dir: Path | None = Field(default=None, description="Temp files (default: system temp).")
    health_port: int = 8082
