"""The ledger's errors: what a use case answers instead of a result.

    SubmissionRejected   a submission that can never be stored as asked (the caller
                         gets the error; on NATS it also becomes a failed job)

Infrastructure errors (PostgreSQL, NATS) are not translated here: the handlers answer
them as `unavailable` (request-reply) or retry them (JetStream redelivery).
"""

from __future__ import annotations

from uuid import UUID

from contracts import ErrorCode, ErrorInfo

ID_IN_USE = ErrorInfo(code=ErrorCode.INVALID_REQUEST, message="job id or idempotency key in use")


class SubmissionRejected(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = ErrorInfo(code=code.value, message=message)


def job_not_found(job_id: UUID) -> ErrorInfo:
    return ErrorInfo(code=ErrorCode.JOB_NOT_FOUND, message=f"job {job_id} not found")


def file_not_found(file_id: UUID) -> ErrorInfo:
    return ErrorInfo(code=ErrorCode.FILE_NOT_FOUND, message=f"file {file_id} not found")
