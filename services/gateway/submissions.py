"""Submitting jobs: the job type and options checked up front, then the ledger call."""

from __future__ import annotations

from typing import Any

from contracts import (
    ErrorCode,
    InvalidOptionsError,
    JobRecord,
    JobType,
    SubmitJob,
    parse_options,
)

from .errors import ApiError
from .metrics import JOBS_SUBMITTED
from .state import Resources
from .views import SUBMITTABLE, JobSettings


def job_type_of(raw: str) -> JobType:
    if raw not in SUBMITTABLE:
        raise ApiError(
            422,
            ErrorCode.UNKNOWN_JOB_TYPE,
            f"unknown job type {raw!r}; expected one of {', '.join(SUBMITTABLE)}",
        )
    return JobType(raw)


def validate_options(job_type: JobType, options: dict[str, Any], where: str = "options") -> None:
    try:
        parse_options(job_type, options, where)
    except InvalidOptionsError as exc:
        raise ApiError(422, ErrorCode.INVALID_OPTIONS, str(exc)) from exc
    nul = nul_character_at(options, where)
    if nul is not None:  # PostgreSQL (the ledger's jsonb) cannot hold one: 503 there
        raise ApiError(422, ErrorCode.INVALID_OPTIONS, f"{nul}: NUL (\\u0000) is not allowed")


def nul_character_at(value: Any, where: str) -> str | None:
    """Where a string (a value or a key) of a JSON value holds NUL; None if none does.
    Iterative: a JSON body may be nested as deep as the parser allows."""
    todo: list[tuple[str, Any]] = [(where, value)]
    while todo:
        path, item = todo.pop()
        if isinstance(item, str) and "\x00" in item:
            return path
        if isinstance(item, dict):
            for key, inner in item.items():
                if "\x00" in str(key):
                    return path
                todo.append((f"{path}.{key}", inner))
        elif isinstance(item, list):
            todo.extend((f"{path}[{i}]", inner) for i, inner in enumerate(item))
    return None


def checked_type(raw_type: str, body: JobSettings) -> JobType:
    """The job type, once it and the options of the job and of each step validate."""
    job_type = job_type_of(raw_type)
    validate_options(job_type, body.options)
    for i, step in enumerate(body.then):
        validate_options(step.type, step.options, f"then[{i}].options")
    return job_type


def submission_settings(body: JobSettings) -> dict[str, Any]:
    """The SubmitJob fields every kind of submission shares."""
    return {
        "options": body.options,
        "then": body.then,
        "callback_url": body.callback_url,
        "retention_hours": body.retention_hours,
        "delete_after_retrieval": body.delete_after_retrieval,
        "cache": body.cache,
    }


async def submit_job(res: Resources, submit: SubmitJob) -> JobRecord:
    job = await res.ledger.create_job(submit)
    JOBS_SUBMITTED.labels(type=submit.type.value).inc()
    return job
