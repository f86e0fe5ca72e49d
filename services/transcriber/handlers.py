"""The transcriber's job handlers: `transcribe` (transcript JSON) and `generate_srt`
(SRT/VTT).

Both read the input from S3, decode it, run faster-whisper and write their output to
`jobs/<job_id>/<name>` as a registered file.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from contracts import SrtOptions, SrtResult, TranscribeOptions, TranscribeResult
from services.common.adapters.s3 import ObjectStore
from services.common.job_context import JobCancelledError, JobContext, Outcome
from services.common.metrics import QUEUE_WAIT, S3_BYTES
from services.common.outputs import output_file_id, save_output
from services.common.scratch import job_scratch

from .adapters.whisper import WhisperEngine, decode
from .diarize import Diarizer
from .errors import Cancelled
from .metrics import AUDIO_SECONDS
from .subtitles import build_cues, to_srt, to_vtt, words_of

CONTENT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt"}


@dataclass
class _Held:
    decoded: bool = False


class TranscriberJobs:
    def __init__(
        self,
        engine: WhisperEngine,
        store: ObjectStore,
        work_dir: Path | None,
        prefetch_chunks: int = 8,
        slots: int = 8,
    ) -> None:
        self._engine = engine
        self._store = store
        self._work_dir = work_dir
        self._prefetch_chunks = prefetch_chunks
        # Each job held waits in a thread for its chunks: its own pool, so waiting jobs
        # never hold up the downloads and decodes of the others (asyncio's default pool
        # has cores + 4 threads).
        self._threads = ThreadPoolExecutor(max(1, slots), thread_name_prefix="job")
        self._diarizer = Diarizer()
        self._decoded = 0  # jobs past their download and decode (the engine counts them)

    def close(self) -> None:
        """Wait for the job threads (handed-back jobs notice within half a second, or when
        the engine stops), so none is inside the model when the process exits."""
        self._threads.shutdown(wait=True, cancel_futures=True)

    def wants_work(self, held: int) -> bool:
        """Take another job only while the batches ahead are not full: each of the `held`
        jobs not with the engine yet (fetched, downloading, decoding) counts as one chunk,
        as does a job cutting its chunks; then its chunks count (a long file then shows it
        has plenty)."""
        arriving = held - self._decoded
        return arriving + self._engine.backlog() < self._prefetch_chunks

    @contextlib.contextmanager
    def _holding(self) -> Iterator[_Held]:
        """One job's handler: once decoded it stops counting as arriving, until the
        handler returns (its result uploaded: the slot is free a moment later)."""
        job = _Held()
        try:
            yield job
        finally:
            if job.decoded:
                self._decoded -= 1

    async def transcribe(self, ctx: JobContext) -> Outcome:
        with self._holding() as job:
            return await self._transcribe(ctx, job)

    async def generate_srt(self, ctx: JobContext) -> Outcome:
        with self._holding() as job:
            return await self._generate_srt(ctx, job)

    async def _transcribe(self, ctx: JobContext, job: _Held) -> Outcome:
        result = await self._run_model(ctx, ctx.options(TranscribeOptions), job)
        name = "transcript.json"
        file_id = output_file_id(ctx.run.job_id, name)
        result = result.model_copy(update={"file_id": file_id})
        output = await save_output(
            self._store,
            ctx.run.job_id,
            name,
            "application/json",
            result.model_dump_json(indent=2).encode(),
            result.duration_s,
        )
        return Outcome(result=result, outputs=[output], language=result.language)

    async def _generate_srt(self, ctx: JobContext, job: _Held) -> Outcome:
        options = ctx.options(SrtOptions)
        # Cues are cut from word timings (also what makes batched decoding usable here).
        result = await self._run_model(
            ctx, options.model_copy(update={"word_timestamps": True}), job
        )
        cues = build_cues(words_of(result.segments), options)
        labels = options.diarize and options.speaker_labels
        content = to_srt(cues, labels) if options.format == "srt" else to_vtt(cues)
        name = f"subtitles.{options.format}"
        file_id = output_file_id(ctx.run.job_id, name)
        output = await save_output(
            self._store,
            ctx.run.job_id,
            name,
            CONTENT_TYPES[options.format],
            content.encode(),
            result.duration_s,
        )
        srt_result = SrtResult(
            file_id=file_id,
            format=options.format,
            content=content,
            cue_count=len(cues),
            language=result.language,
            speakers=result.speakers,
        )
        return Outcome(result=srt_result, outputs=[output], language=result.language)

    async def _run_model(
        self, ctx: JobContext, options: TranscribeOptions, job: _Held
    ) -> TranscribeResult:
        run = ctx.run
        if options.diarize:  # speakers are found per word: the words are needed
            options = options.model_copy(update={"word_timestamps": True})
            self._diarizer.check_available()  # before an hour of audio is transcribed
        QUEUE_WAIT.labels(type=run.type.value).observe(
            max(0.0, (datetime.now(UTC) - run.occurred_at).total_seconds())
        )
        with job_scratch(self._work_dir) as tmp:
            source = Path(tmp) / "input"
            size = await self._store.download(run.input_key, source)
            S3_BYTES.labels(direction="out").inc(size)
            audio = await asyncio.to_thread(decode, source)
        job.decoded = True
        self._decoded += 1
        try:
            # Jobs run side by side here; the engine decodes their chunks in shared batches.
            result = await asyncio.get_running_loop().run_in_executor(
                self._threads,
                self._engine.transcribe,
                audio,
                options,
                ctx.report_progress,
                ctx.cancelled,
            )
            if options.diarize:
                result = await asyncio.get_running_loop().run_in_executor(
                    self._threads, self._diarizer.label, audio, result, options
                )
        except Cancelled as exc:
            raise JobCancelledError from exc
        if ctx.cancelled():
            raise JobCancelledError
        AUDIO_SECONDS.inc(result.duration_s)
        return result
