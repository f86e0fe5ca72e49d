"""The srt-fixer's own error types."""

from __future__ import annotations

from contracts import ErrorCode
from services.common.errors import PermanentError


class LlmUnavailable(PermanentError):
    """Authentication, unknown model, or transient errors that outlasted our retries."""

    code = ErrorCode.LLM_UNAVAILABLE


class LlmOutputInvalid(PermanentError):
    """No usable answer from the model (after one retry per chunk or summary)."""

    code = ErrorCode.LLM_OUTPUT_INVALID
