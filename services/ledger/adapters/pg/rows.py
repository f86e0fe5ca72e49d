"""asyncpg records → the ledger's typed rows (nothing past this module sees a Record)."""

from __future__ import annotations

import asyncpg

from contracts import FileRecord, JobStatus

from ...records import ChildRow, FileRow, JobRow

JOB_COLUMNS = """id, owner, type, status, options, file_id, file_ids, output_file_ids, result,
    error_code, error_message, attempt, progress, language, parent_id, pipeline,
    pipeline_root, pipeline_index, retention_hours, delete_after_retrieval, created_at,
    started_at, finished_at, retrieved_at, ttl_deadline, steps, correlation_id, callback_url,
    cache_key, cache_model, cached_from"""

_JOB_FIELDS = [c.strip() for c in JOB_COLUMNS.split(",")]


def job_row(r: asyncpg.Record) -> JobRow:
    values = {name: r[name] for name in _JOB_FIELDS}
    values["status"] = JobStatus(r["status"])
    values["options"] = r["options"] or {}
    values["output_file_ids"] = list(r["output_file_ids"] or [])
    values["file_ids"] = list(r["file_ids"]) if r["file_ids"] is not None else None
    return JobRow(**values)


def file_row(r: asyncpg.Record) -> FileRow:
    record = FileRecord(
        id=r["id"],
        filename=r["filename"],
        content_type=r["content_type"],
        size=r["size"],
        sha256=r["sha256"],
        duration_s=r["duration_s"],
        created_at=r["created_at"],
        job_id=r["job_id"],
    )
    return FileRow(record, r["object_key"])


def child_row(r: asyncpg.Record) -> ChildRow:
    return ChildRow(r["id"], r["parent_id"], JobStatus(r["status"]), r["progress"])
