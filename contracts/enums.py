"""Enumerations shared by every service: job types, statuses and error codes."""

from __future__ import annotations

from enum import StrEnum


class JobType(StrEnum):
    TRANSCRIBE = "transcribe"
    GENERATE_SRT = "generate_srt"
    CONVERT = "convert"
    FIX_SRT = "fix_srt"
    TRANSLATE_SRT = "translate_srt"
    SUMMARIZE = "summarize"
    BATCH = "batch"


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED}
)


class ErrorCode(StrEnum):
    """Stable error codes: clients and tests match on these, never on messages."""

    UNREADABLE_MEDIA = "unreadable_media"
    UNSUPPORTED_MEDIA = "unsupported_media"
    FILE_NOT_FOUND = "file_not_found"
    JOB_NOT_FOUND = "job_not_found"
    INVALID_OPTIONS = "invalid_options"
    INVALID_REQUEST = "invalid_request"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_JOB_TYPE = "unknown_job_type"
    LLM_OUTPUT_INVALID = "llm_output_invalid"
    LLM_UNAVAILABLE = "llm_unavailable"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    JOB_FINISHED = "job_finished"
    BATCH_FAILED = "batch_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    RETRIES_EXHAUSTED = "retries_exhausted"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
