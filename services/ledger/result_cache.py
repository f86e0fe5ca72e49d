"""The result cache: a job whose input content, type, options and model match a
completed, unexpired job of the same tenant reuses that job's outputs.

The key is computed at submission (sha256 of type, canonical options and the input's
sha256). The model is what the worker pool announces in the `jetscribe_workers` KV
bucket for the job type (an LLM job's own `model` option wins); a completed job
records the model that produced it (`JobCompleted.model`). A hit is created `pending`
without a dispatch; the ledger then copies the outputs server-side to the new job's
own keys (so each job's retention stays its own) and records `started` and
`completed` with `cached: true`. If copying fails the job is dispatched to a worker.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from nats.js.kv import KeyValue
from pydantic import TypeAdapter

from contracts import (
    JobCompleted,
    JobEvent,
    JobResult,
    JobStarted,
    JobType,
    OutputFile,
    streams,
)
from services.common.adapters.s3 import ObjectStore, output_key
from services.common.logging import get_logger
from services.common.outputs import output_file_id

from .adapters.pg import Pool
from .adapters.pg import cache as pg_cache
from .adapters.pg import files as pg_files
from .builders import PRODUCER
from .metrics import CACHE_LOOKUPS
from .records import JobRow

log = get_logger(__name__)
CACHEABLE = frozenset(t for t in JobType if t is not JobType.BATCH)
_RESULT: TypeAdapter[JobResult] = TypeAdapter(JobResult)


def cache_key(job_type: str, options: dict[str, Any], input_sha256: str | None) -> str | None:
    if input_sha256 is None or job_type not in CACHEABLE:
        return None
    canonical = json.dumps(
        {"type": job_type, "options": options, "input": input_sha256},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResultCache:
    def __init__(
        self,
        pool: Pool,
        store: ObjectStore,
        kv: Callable[[], Awaitable[KeyValue]],
        min_life_s: float = 60.0,
        model_ttl_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._store = store
        self._kv = kv
        self._min_life_s = min_life_s
        self._model_ttl_s = model_ttl_s
        self._models: dict[str, tuple[float, str | None]] = {}

    async def current_model(self, job_type: str, options: dict[str, Any]) -> str | None:
        """The model a job of this type would run on now (None: unknown, no caching)."""
        if isinstance(options.get("model"), str) and options["model"]:
            return str(options["model"])
        seen = self._models.get(job_type)
        if seen is not None and time.monotonic() - seen[0] < self._model_ttl_s:
            return seen[1]
        model: str | None = None
        try:
            entry = await (await self._kv()).get(streams.model_key(job_type))
            model = entry.value.decode() if entry and entry.value else None
        except Exception:  # not announced yet, or NATS away: no cache hit
            model = None
        self._models[job_type] = (time.monotonic(), model)
        return model

    async def lookup(
        self, owner: str, key: str | None, job_type: str, options: dict[str, Any]
    ) -> JobRow | None:
        if key is None:
            return None
        model = await self.current_model(job_type, options)
        row = (
            await pg_cache.find(self._pool, owner, key, model, self._min_life_s) if model else None
        )
        CACHE_LOOKUPS.labels(type=job_type, outcome="hit" if row else "miss").inc()
        return row

    async def reuse(self, job_id: UUID, source: JobRow) -> list[JobEvent]:
        """Copy `source`'s outputs to `job_id` and return its `started` and `completed`."""
        ids = source.output_file_ids
        files = {f.id: f for f in await pg_files.live(self._pool, ids)}
        if len(files) != len(ids):
            raise LookupError("the cached job's outputs are gone")
        outputs: list[OutputFile] = []
        renamed: dict[str, str] = {}
        for old_id in ids:
            f = files[old_id]
            name = f.object_key.rsplit("/", 1)[-1]
            key = output_key(job_id, name)
            await self._store.copy(f.object_key, key)
            new_id = output_file_id(job_id, name)
            renamed[str(old_id)] = str(new_id)
            outputs.append(
                OutputFile(
                    id=new_id,
                    object_key=key,
                    filename=f.record.filename,
                    content_type=f.record.content_type,
                    size=f.record.size,
                    sha256=f.record.sha256,
                    duration_s=f.record.duration_s,
                )
            )
        result = dict(source.result or {})
        if result.get("file_id") is not None:
            result["file_id"] = renamed.get(str(result["file_id"]), result["file_id"])
        whole = result.get("full_result")
        if isinstance(whole, dict) and isinstance(whole.get("object_key"), str):
            # The whole result (stored by reference) is copied too: it must outlive the source.
            key = output_key(job_id, whole["object_key"].rsplit("/", 1)[-1])
            await self._store.copy(whole["object_key"], key)
            result["full_result"] = {**whole, "object_key": key, "url": None}
        result.pop("url", None)  # presigned at every read, for the new job's own copy
        result.update(cached=True, cached_from=str(source.id))
        common = {"job_id": job_id, "producer": PRODUCER}
        return [
            JobStarted(**common, worker="result-cache"),
            JobCompleted(
                **common,
                result=_RESULT.validate_python(result),
                outputs=outputs,
                language=source.language,
                model=source.cache_model,
            ),
        ]
