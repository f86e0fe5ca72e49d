"""The transcriber's own error types."""

from __future__ import annotations


class Cancelled(Exception):
    """The engine stopped between segments because the job was cancelled."""


class ModelNotFound(RuntimeError):
    """No usable Whisper model: the packages are missing or the directory is not one."""
