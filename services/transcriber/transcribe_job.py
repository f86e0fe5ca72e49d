"""The `transcribe` job: input from S3 → faster-whisper → transcript JSON into S3."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts import OutputFile, TranscribeOptions
from services.common.errors import InvalidOptions
from services.common.storage import ObjectStore, output_key
from services.common.worker import JobCancelledError, JobContext, Outcome

from .engine import Cancelled, WhisperEngine, decode
from .metrics import AUDIO_SECONDS, QUEUE_WAIT, S3_BYTES


def output_file_id(job_id: UUID, name: str) -> UUID:
    """Deterministic per job and name: a redelivered job overwrites, never duplicates."""
    return uuid5(NAMESPACE_URL, f"jetscribe:{job_id}:{name}")


class TranscribeJob:
    def __init__(
        self, engine: WhisperEngine, store: ObjectStore, work_dir: Path | None, slots: int = 1
    ) -> None:
        self._engine = engine
        self._store = store
        self._work_dir = work_dir
        self._slots = asyncio.Semaphore(slots)

    async def __call__(self, ctx: JobContext) -> Outcome:
        run = ctx.run
        QUEUE_WAIT.labels(type=run.type.value).observe(
            max(0.0, (datetime.now(UTC) - run.occurred_at).total_seconds())
        )
        try:
            options = TranscribeOptions.model_validate(run.options)
        except ValueError as exc:
            raise InvalidOptions(f"options: {exc}") from exc

        with tempfile.TemporaryDirectory(prefix="jetscribe-", dir=self._work_dir) as tmp:
            source = Path(tmp) / "input"
            size = await self._store.download(run.input_key, source)
            S3_BYTES.labels(direction="out").inc(size)
            audio = await asyncio.to_thread(decode, source)
        async with self._slots:
            try:
                result = await asyncio.to_thread(
                    self._engine.transcribe, audio, options, ctx.report_progress, ctx.cancelled
                )
            except Cancelled as exc:
                raise JobCancelledError from exc
        AUDIO_SECONDS.inc(result.duration_s)

        name = "transcript.json"
        file_id = output_file_id(run.job_id, name)
        result = result.model_copy(update={"file_id": file_id})
        stored = await self._store.put_bytes(
            output_key(run.job_id, name),
            result.model_dump_json(indent=2).encode(),
            "application/json",
        )
        S3_BYTES.labels(direction="in").inc(stored.size)
        output = OutputFile(
            id=file_id,
            object_key=stored.key,
            filename=name,
            content_type="application/json",
            size=stored.size,
            sha256=stored.sha256,
            duration_s=result.duration_s,
        )
        return Outcome(result=result, outputs=[output], language=result.language)
