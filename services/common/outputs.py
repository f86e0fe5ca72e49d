"""A job's output files: stored under `jobs/<job_id>/<name>` with an id derived from both,
so a redelivered job overwrites its outputs and registers the same files, never twice."""

from __future__ import annotations

from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts import OutputFile

from .adapters.s3 import ObjectStore, output_key
from .metrics import S3_BYTES


def output_file_id(job_id: UUID, name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"jetscribe:{job_id}:{name}")


async def save_output(
    store: ObjectStore,
    job_id: UUID,
    name: str,
    content_type: str,
    source: bytes | Path,
    duration_s: float | None = None,
) -> OutputFile:
    """Store bytes or a file as one of the job's outputs; the ledger registers it."""
    key = output_key(job_id, name)
    if isinstance(source, Path):
        stored = await store.put_file(key, source, content_type)
    else:
        stored = await store.put_bytes(key, source, content_type)
    S3_BYTES.labels(direction="in").inc(stored.size)
    return OutputFile(
        id=output_file_id(job_id, name),
        object_key=stored.key,
        filename=name,
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        duration_s=duration_s,
    )
