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
    cpu_threads: int = Field(default=0, ge=0, description="0: one per job slot on 2 cores.")
    max_concurrent_jobs: int = renamed_env(
        "TRANSCRIBER_MAX_CONCURRENT_JOBS",
        "MAX_CONCURRENT_JOBS",
        default=1,
        ge=1,
        le=16,
        description="Model slots: jobs at once per replica, each on its own model worker.",
    )
    model_cache_dir: Path = Field(default_factory=default_cache_dir)
    work_dir: Path | None = Field(default=None, description="Temp files (default: system temp).")
    health_port: int = 8082
