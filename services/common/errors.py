"""Error types shared by services.

    JetscribeError
    ├── PermanentError      never retried: the job fails at once (message terminated)
    │   ├── InvalidMessage      payload that does not parse / unsupported schema_version
    │   ├── InvalidOptions
    │   ├── UnknownJobType
    │   ├── UnreadableMedia
    │   ├── UnsupportedMedia
    │   └── InputNotFound
    └── TransientError      retried through JetStream redelivery (nak with delay)
        └── StorageUnavailable

Adapters translate driver errors into these at the boundary.
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


class InvalidMessage(PermanentError):
    code = ErrorCode.INVALID_MESSAGE


class InvalidOptions(PermanentError):
    code = ErrorCode.INVALID_OPTIONS


class UnknownJobType(PermanentError):
    code = ErrorCode.UNKNOWN_JOB_TYPE


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
