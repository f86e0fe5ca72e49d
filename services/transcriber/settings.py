"""Settings of the transcriber."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from services.common.settings import ServiceSettings


def default_cache_dir() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jetscribe" / "models"


class TranscriberSettings(ServiceSettings):
    whisper_model: str = Field(
        default="base",
        description="'base' (the packaged model) or a CTranslate2 Whisper model directory.",
    )
    whisper_device: Literal["auto", "cpu", "cuda"] = "auto"
    whisper_compute_type: str = Field(
        default="auto", description="auto: float16 on CUDA, int8 on CPU."
    )
    cpu_threads: int = Field(default=0, ge=0, description="0: one per job slot on 2 cores.")
    max_concurrent_jobs: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Jobs at once per replica, each on its own model worker.",
    )
    model_cache_dir: Path = Field(default_factory=default_cache_dir)
    work_dir: Path | None = Field(default=None, description="Temp files (default: system temp).")
    ack_wait_s: float = Field(default=60.0, gt=1)
    heartbeat_s: float = Field(default=10.0, gt=0)
    max_deliver: int = Field(default=5, ge=1)
    progress_min_interval_s: float = Field(default=0.25, ge=0)
    health_port: int = 8082
