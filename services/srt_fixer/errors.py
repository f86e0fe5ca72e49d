"""The srt-fixer's own error types."""

from __future__ import annotations

from contracts import ErrorCode
from services.common.errors import PermanentError, TransientError


class LlmUnavailable(PermanentError):
    """The LLM refuses the call for good: authentication, unknown model, bad request."""

    code = ErrorCode.LLM_UNAVAILABLE


class LlmBusy(TransientError):
    """A rate limit (429), a server error (5xx), a timeout or no connection: the job
    goes back to JetStream and runs again after the worker's backoff (`RETRY_BACKOFF_S`,
    up to `MAX_DELIVER` attempts) — JetStream is the one owner of retries."""

    code = ErrorCode.LLM_UNAVAILABLE


class LlmOutputInvalid(PermanentError):
    """No usable answer from the model (after one retry per chunk or summary)."""

    code = ErrorCode.LLM_OUTPUT_INVALID
