"""What a submission must satisfy before anything is stored: options, chain, callback."""

from __future__ import annotations

from typing import Any

from contracts import (
    ErrorCode,
    InvalidOptionsError,
    JobType,
    PipelineStep,
    SubmitJob,
    parse_options,
)
from contracts.pipeline_steps import check_pipeline

from .callback_urls import InvalidCallback, check_url
from .errors import SubmissionRejected
from .policy import LedgerPolicy


def options(job_type: JobType, raw: dict[str, Any], where: str = "options") -> dict[str, Any]:
    """The options, validated and with their defaults, as stored and sent to workers."""
    try:
        return parse_options(job_type, raw, where).model_dump(mode="json")
    except InvalidOptionsError as exc:
        raise SubmissionRejected(ErrorCode.INVALID_OPTIONS, str(exc)) from exc


def steps(first: JobType, first_options: dict[str, Any], submit: SubmitJob) -> list[dict[str, Any]]:
    """The pipeline steps after the first (`then`), each with validated options and what
    it reads (`input`) when that is not the previous step's output."""
    checked = [
        PipelineStep(
            type=step.type,
            options=options(step.type, step.options, f"then[{i}].options"),
            input=step.input,
        )
        for i, step in enumerate(submit.then)
    ]
    try:
        check_pipeline(first, first_options, checked)
    except ValueError as exc:
        raise SubmissionRejected(ErrorCode.INVALID_REQUEST, str(exc)) from exc
    return [step.model_dump(mode="json", exclude_none=True) for step in checked]


async def callback(url: str, policy: LedgerPolicy) -> None:
    if not policy.webhooks_enabled:
        raise SubmissionRejected(
            ErrorCode.INVALID_REQUEST,
            "callback_url: webhooks are not configured on this server (WEBHOOK_SECRET)",
        )
    try:
        await check_url(url, policy.webhook_allow_private)
    except InvalidCallback as exc:
        raise SubmissionRejected(ErrorCode.INVALID_REQUEST, str(exc)) from exc


def batch_files(submit: SubmitJob, policy: LedgerPolicy) -> list[Any]:
    file_ids = submit.file_ids or ([submit.file_id] if submit.file_id else [])
    if not file_ids:
        raise SubmissionRejected(ErrorCode.INVALID_REQUEST, "file_ids: at least one file")
    if len(file_ids) > policy.max_batch_files:
        raise SubmissionRejected(
            ErrorCode.INVALID_REQUEST,
            f"file_ids: at most {policy.max_batch_files} files in one batch",
        )
    return file_ids
