"""The converter's own error types (media errors are the shared ones of services.common)."""

from __future__ import annotations


class FfmpegNotFound(RuntimeError):
    """Neither the machine's ffmpeg nor the imageio-ffmpeg fallback is there."""
