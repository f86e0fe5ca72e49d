"""Error types shared by services.

    JetscribeError
    ├── PermanentError      never retried: the job fails at once (message terminated)
    │   ├── InvalidOptions
    │   ├── UnreadableMedia
    │   ├── UnsupportedMedia
    │   └── InputNotFound
    └── TransientError      retried through JetStream redelivery (nak with delay)
        ├── StorageUnavailable
        ├── ToolInterrupted  a tool (ffmpeg) stopped by a signal: the OOM killer, an operator
        └── ScratchSpaceFull the worker's local disk is full

Adapters translate driver errors into these at the boundary. A service's own error
types (LLM, model) live in its `errors.py` and derive from these.
"""

from __future__ import annotations

from contracts import ErrorCode, ErrorInfo


class JetscribeError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def info(self) -> ErrorInfo:
        return ErrorInfo(code=self.code.value, message=self.message)


class PermanentError(JetscribeError):
    pass


class InvalidOptions(PermanentError):
    code = ErrorCode.INVALID_OPTIONS


class UnreadableMedia(PermanentError):
    code = ErrorCode.UNREADABLE_MEDIA


class UnsupportedMedia(PermanentError):
    code = ErrorCode.UNSUPPORTED_MEDIA


class InputNotFound(PermanentError):
    code = ErrorCode.FILE_NOT_FOUND


class TransientError(JetscribeError):
    pass


class StorageUnavailable(TransientError):
    code = ErrorCode.STORAGE_UNAVAILABLE


class ToolInterrupted(TransientError):
    pass


class ScratchSpaceFull(TransientError):
    pass
