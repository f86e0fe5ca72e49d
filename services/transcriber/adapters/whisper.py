"""faster-whisper behind one small adapter with a typed options model.

Synchronous by design: the handler runs it in a worker thread. Decoding is a separate
step so unreadable media is told apart from inference errors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from contracts import Segment, TranscribeOptions, TranscribeResult, Word
from services.common.errors import UnreadableMedia, UnsupportedMedia
from services.common.media_checks import check_complete, clock_seconds

from ..errors import Cancelled
from ..metrics import BATCH_CHUNKS, BATCH_JOBS
from .alignment import InOrder, Unaligned, decode_batch, new_pipeline
from .batcher import Chunk, ChunkBatcher
from .chunks import SAMPLE_RATE, PreparedAudio, prepare, to_segments
from .turns import Turns


@dataclass(frozen=True)
class DeviceChoice:
    device: str
    compute_type: str


def choose_device(device: str, compute_type: str) -> DeviceChoice:
    """CUDA when present (float16), otherwise CPU (int8)."""
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return DeviceChoice(device, compute_type)


def decode(path: Path) -> np.ndarray:
    """Decode any container PyAV reads to 16 kHz mono float32."""
    import av
    from faster_whisper.audio import decode_audio

    try:
        audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except av.error.FFmpegError as exc:
        # strerror only: the exception's text also names our temp file
        raise UnreadableMedia(f"cannot decode media: {exc.strerror or type(exc).__name__}") from exc
    except (IndexError, StopIteration) as exc:
        raise UnsupportedMedia("the file has no audio stream") from exc
    except (ValueError, OSError) as exc:
        raise UnreadableMedia(f"cannot decode media: {exc}") from exc
    if not isinstance(audio, np.ndarray):
        raise UnsupportedMedia("unexpected decoder output")
    # A damaged file decodes without an error to a fraction of its length, or to
    # nothing (and then to an empty transcript): that is not a success.
    check_complete(stated_duration(path), audio.shape[0] / SAMPLE_RATE)
    if audio.size == 0:
        raise UnsupportedMedia("the file has no decodable audio")
    return audio


def stated_duration(path: Path) -> float | None:
    """What the file says its audio lasts: the audio stream's own duration (a video's
    sound may end before its picture), else the container's; None when neither says."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0] if container.streams.audio else None
            if stream is not None and stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            tagged = clock_seconds(stream.metadata.get("DURATION")) if stream is not None else None
            if tagged:
                return tagged
            if container.duration:
                return float(container.duration) / 1_000_000
    except (av.error.FFmpegError, ValueError, OSError, IndexError):
        return None
    return None


class WhisperEngine:
    def __init__(
        self,
        model_dir: Path,
        device: DeviceChoice,
        cpu_threads: int = 0,
        num_workers: int = 1,
        batch_wait_s: float = 0.05,
        max_batch: int = 64,
        prepare_at_once: int = 1,
    ) -> None:
        self.model_dir = model_dir
        self.device = device
        self.cpu_threads = cpu_threads
        self.num_workers = num_workers
        self._model: Any = None
        self._batch_wait_s = batch_wait_s
        self.max_batch = max_batch
        self._chunk_batcher: ChunkBatcher | None = None
        self._preparing = 0  # jobs cutting their chunks, soon in the backlog
        self._lock = threading.Lock()
        # Jobs cut their chunks (features, language detection) a few at a time, the rest
        # waiting their turn in order of arrival: eight at once on two cores would each
        # take eight times as long, and the first result would wait for all of them.
        self._prepare_turns = Turns(prepare_at_once)

    @property
    def name(self) -> str:
        return self.model_dir.name

    def load(self) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(
            str(self.model_dir),
            device=self.device.device,
            compute_type=self.device.compute_type,
            cpu_threads=self.cpu_threads,
            num_workers=self.num_workers,
            local_files_only=True,
        )
        self._pipelines = threading.local()  # one per batcher worker (see alignment.py)
        self._chunk_batcher = ChunkBatcher(
            self._run_batch, max_wait_s=self._batch_wait_s, workers=self.num_workers
        )

    def close(self, timeout_s: float = 120.0) -> None:
        """Stop batching once the batch in hand is decoded (jobs still waiting fail)."""
        if self._chunk_batcher is not None:
            self._chunk_batcher.stop(timeout_s)

    def backlog(self) -> int:
        """Chunks waiting for a batch, a job still cutting its own counted as one."""
        waiting = self._chunk_batcher.backlog() if self._chunk_batcher is not None else 0
        return waiting + self._preparing

    def transcribe(
        self,
        audio: np.ndarray,
        options: TranscribeOptions,
        on_progress: Callable[[float], None],
        cancelled: Callable[[], bool],
    ) -> TranscribeResult:
        if self._model is None:
            raise RuntimeError("model not loaded")
        # Batched decoding needs VAD (or explicit clips) to cut the audio into chunks.
        if options.batch_size > 1 and options.vad_filter:
            segments, language, probability = self._decode_in_batches(
                audio, options, on_progress, cancelled
            )
        else:
            segments, language, probability = self._decode_in_order(
                audio, options, on_progress, cancelled
            )
        return TranscribeResult(
            text=" ".join(s.text for s in segments if s.text).strip(),
            language=language,
            language_probability=probability,
            duration_s=round(audio.shape[0] / SAMPLE_RATE, 3),
            segments=segments,
            model=self.name,
        )

    def _decode_in_batches(
        self,
        audio: np.ndarray,
        options: TranscribeOptions,
        on_progress: Callable[[float], None],
        cancelled: Callable[[], bool],
    ) -> tuple[list[Segment], str, float]:
        """The job's chunks go to the shared batcher, with other jobs' chunks."""
        with self._lock:
            self._preparing += 1
        try:
            with self._prepare_turns.turn(cancelled):  # first come, first served
                if cancelled():
                    raise Cancelled
                prepared = prepare(self._model, audio, options)
            encoded: list[np.ndarray | None] = [None] * len(prepared.chunks)
            if encoded:  # the language detection's encoder output, for the first chunk
                encoded[0] = prepared.first_encoded
            ticket = self._batcher().submit(
                prepared.key,
                min(prepared.key.batch_size, self.max_batch),
                prepared,
                list(zip(prepared.features, prepared.chunks, encoded, strict=True)),
            )
            # each goes with its chunk once decoded
            prepared.features, prepared.first_encoded = [], None
        finally:
            with self._lock:
                self._preparing -= 1
        outputs: list[list[dict[str, Any]]] = [[] for _ in prepared.chunks]
        # words: batches decode in parallel, and are aligned here, in order
        words = InOrder(self._model, prepared) if prepared.options.word_timestamps else None
        if ticket.total:
            done = 0
            while done < ticket.total:
                got = ticket.next_result(timeout_s=0.5)
                if got is None and not self._batcher().alive:
                    raise RuntimeError("the batcher stopped")
                if cancelled():
                    self._batcher().withdraw(ticket)
                    raise Cancelled
                if got is None:
                    continue
                index, result, error = got
                if error is not None:
                    self._batcher().withdraw(ticket)
                    raise error
                if isinstance(result, Unaligned) and words is not None:
                    for aligned, output in words.add(result):
                        outputs[aligned] = output
                else:
                    outputs[index] = result
                done += 1
                on_progress(done / ticket.total)
        segments = [to_segment(seg, options) for seg in to_segments(prepared, outputs)]
        return segments, prepared.language, prepared.language_probability

    def _decode_in_order(
        self,
        audio: np.ndarray,
        options: TranscribeOptions,
        on_progress: Callable[[float], None],
        cancelled: Callable[[], bool],
    ) -> tuple[list[Segment], str, float]:
        """faster-whisper's sequential decoding (conditioned on the text before)."""
        duration = audio.shape[0] / SAMPLE_RATE
        segments, info = self._model.transcribe(
            audio,
            language=options.language,
            task=options.task,
            beam_size=options.beam_size,
            vad_filter=options.vad_filter,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.initial_prompt,
            temperature=options.temperature,
        )
        out: list[Segment] = []
        for seg in segments:  # a generator: decoding happens as we iterate
            if cancelled():
                raise Cancelled
            out.append(to_segment(seg, options))
            if duration > 0:
                on_progress(min(seg.end / duration, 1.0))
        return out, info.language, float(info.language_probability)

    def _batcher(self) -> ChunkBatcher:
        if self._chunk_batcher is None:
            raise RuntimeError("model not loaded")
        return self._chunk_batcher

    def _run_batch(self, batch: Sequence[Chunk]) -> Sequence[Any]:
        # One key per batch, so the first job's tokenizer and options stand for all.
        prepared: PreparedAudio = batch[0].ticket.context
        features = np.stack([chunk.payload[0] for chunk in batch])
        metadata = [chunk.payload[1] for chunk in batch]
        encoded = [chunk.payload[2] for chunk in batch]
        pipeline = getattr(self._pipelines, "pipeline", None)
        if pipeline is None:
            pipeline = self._pipelines.pipeline = new_pipeline(self._model)
        BATCH_CHUNKS.observe(len(batch))
        BATCH_JOBS.observe(len({id(chunk.ticket) for chunk in batch}))
        return decode_batch(pipeline, features, metadata, prepared, batch[0].index, encoded)


def to_segment(seg: Any, options: TranscribeOptions) -> Segment:
    """A faster-whisper segment as our contract's."""
    words = (
        [Word(start=w.start, end=w.end, word=w.word, probability=w.probability) for w in seg.words]
        if options.word_timestamps and seg.words
        else None
    )
    return Segment(
        start=seg.start,
        end=seg.end,
        text=seg.text.strip(),
        words=words,
        id=seg.id,
        seek=seg.seek,
        temperature=seg.temperature,
        avg_logprob=seg.avg_logprob,
        compression_ratio=seg.compression_ratio,
        no_speech_prob=seg.no_speech_prob,
        tokens=list(seg.tokens) if options.include_tokens else None,
    )
