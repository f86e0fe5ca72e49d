"""Settings of the converter."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import WorkerSettings, renamed_env


class ConverterSettings(WorkerSettings):
    max_concurrent_jobs: int = renamed_env(
        "CONVERTER_MAX_CONCURRENT_JOBS",
        "MAX_CONCURRENT_JOBS",
        default=1,
        ge=1,
        le=16,
        description="ffmpeg runs at once.",
    )
    ffmpeg_threads: int = Field(default=0, ge=0, description="0: let ffmpeg decide.")
    work_dir: Path | None = Field(default=None, description="Temp files (default: system temp).")
    progress_min_interval_s: float = Field(default=0.5, ge=0)
    health_port: int = 8083
