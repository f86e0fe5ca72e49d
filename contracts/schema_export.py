"""JSON Schema and AsyncAPI export of the contracts (`make schemas`).

`python -m contracts.schema_export [DIR]` writes one JSON Schema per message plus
`asyncapi.json`; the snapshot test compares the committed files with a fresh export.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from . import subjects
from .commands import RunJob, SubmitJob
from .dead_letters import DeadLetter, DeadLetterListRequest, DeadLetterListResponse
from .events import JobEvent
from .ledger_api import (
    FileDeleteRequest,
    FileGetRequest,
    FileRegisterRequest,
    FileResponse,
    JobCancelRequest,
    JobCreateRequest,
    JobGetRequest,
    JobListRequest,
    JobListResponse,
    JobResponse,
    JobWebhooksRequest,
    JobWebhooksResponse,
)
from .options import OPTIONS_BY_TYPE
from .queue import QueueStatsRequest, QueueStatsResponse
from .results import JobResult

SCHEMA_DIR = Path(__file__).parent / "schemas"

MESSAGES: dict[str, type[BaseModel]] = {
    "SubmitJob": SubmitJob,
    "RunJob": RunJob,
    "JobCreateRequest": JobCreateRequest,
    "JobGetRequest": JobGetRequest,
    "JobListRequest": JobListRequest,
    "JobCancelRequest": JobCancelRequest,
    "JobResponse": JobResponse,
    "JobListResponse": JobListResponse,
    "FileRegisterRequest": FileRegisterRequest,
    "FileGetRequest": FileGetRequest,
    "FileDeleteRequest": FileDeleteRequest,
    "FileResponse": FileResponse,
    "JobWebhooksRequest": JobWebhooksRequest,
    "JobWebhooksResponse": JobWebhooksResponse,
    "DeadLetter": DeadLetter,
    "DeadLetterListRequest": DeadLetterListRequest,
    "DeadLetterListResponse": DeadLetterListResponse,
    "QueueStatsRequest": QueueStatsRequest,
    "QueueStatsResponse": QueueStatsResponse,
}
for _model in OPTIONS_BY_TYPE.values():
    MESSAGES[_model.__name__] = _model


def all_schemas() -> dict[str, dict[str, Any]]:
    out = {name: model.model_json_schema() for name, model in MESSAGES.items()}
    out["JobEvent"] = TypeAdapter(JobEvent).json_schema()
    out["JobResult"] = TypeAdapter(JobResult).json_schema()
    return dict(sorted(out.items()))


def asyncapi() -> dict[str, Any]:
    """An AsyncAPI 3 document naming every channel and its message."""
    channels = {
        "jobsSubmit": (subjects.JOBS_SUBMIT, "SubmitJob", "Submit a job (any upstream system)."),
        "jobsRun": ("jobs.run.{type}", "RunJob", "Dispatch of one job to its worker pool."),
        "jobsEvents": ("jobs.events.{job_id}", "JobEvent", "Lifecycle events of one job."),
        "jobsDead": (
            "jobs.dead.{consumer}",
            "DeadLetter",
            "A message a consumer gave up for good, and why (the ledger records it).",
        ),
        "ledgerJobsCreate": (subjects.LEDGER_JOBS_CREATE, "JobCreateRequest", "-> JobResponse"),
        "ledgerJobsGet": (subjects.LEDGER_JOBS_GET, "JobGetRequest", "-> JobResponse"),
        "ledgerJobsList": (subjects.LEDGER_JOBS_LIST, "JobListRequest", "-> JobListResponse"),
        "ledgerJobsCancel": (subjects.LEDGER_JOBS_CANCEL, "JobCancelRequest", "-> JobResponse"),
        "ledgerJobsWebhooks": (
            subjects.LEDGER_JOBS_WEBHOOKS,
            "JobWebhooksRequest",
            "-> JobWebhooksResponse",
        ),
        "ledgerFilesRegister": (
            subjects.LEDGER_FILES_REGISTER,
            "FileRegisterRequest",
            "-> FileResponse",
        ),
        "ledgerFilesGet": (subjects.LEDGER_FILES_GET, "FileGetRequest", "-> FileResponse"),
        "ledgerFilesDelete": (subjects.LEDGER_FILES_DELETE, "FileDeleteRequest", "-> FileResponse"),
        "ledgerDeadLettersList": (
            subjects.LEDGER_DEAD_LETTERS_LIST,
            "DeadLetterListRequest",
            "-> DeadLetterListResponse",
        ),
        "ledgerQueueStats": (
            subjects.LEDGER_QUEUE_STATS,
            "QueueStatsRequest",
            "-> QueueStatsResponse",
        ),
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "jetscribe", "version": "1"},
        "channels": {
            key: {
                "address": address,
                "description": description,
                "messages": {msg: {"$ref": f"#/components/messages/{msg}"}},
            }
            for key, (address, msg, description) in channels.items()
        },
        "components": {
            "messages": {
                name: {"name": name, "payload": {"$ref": f"{name}.json"}}
                for name in sorted({m for _, m, _ in channels.values()})
            }
        },
    }


def render() -> dict[str, str]:
    files = {f"{name}.json": _dump(schema) for name, schema in all_schemas().items()}
    files["asyncapi.json"] = _dump(asyncapi())
    return files


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SCHEMA_DIR
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.json"):
        old.unlink()
    for name, text in render().items():
        (target / name).write_text(text)


if __name__ == "__main__":
    main()
