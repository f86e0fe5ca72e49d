"""Settings of the converter."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import ServiceSettings


class ConverterSettings(ServiceSettings):
    max_concurrent_jobs: int = Field(default=1, ge=1, le=16, description="ffmpeg runs at once.")
    ffmpeg_threads: int = Field(default=0, ge=0, description="0: let ffmpeg decide.")
    work_dir: Path | None = Field(default=None, description="Temp files (default: system temp).")
    ack_wait_s: float = Field(default=60.0, gt=1)
    heartbeat_s: float = Field(default=10.0, gt=0)
    max_deliver: int = Field(default=5, ge=1)
    progress_min_interval_s: float = Field(default=0.5, ge=0)
    health_port: int = 8083
