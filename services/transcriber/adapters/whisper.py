"""faster-whisper behind one small adapter with a typed options model.

Synchronous by design: the handler runs it in a worker thread. Decoding is a separate
step so unreadable media is told apart from inference errors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from contracts import Segment, TranscribeOptions, TranscribeResult, Word
from services.common.errors import UnreadableMedia, UnsupportedMedia
from services.common.media_checks import check_complete, clock_seconds

from ..errors import Cancelled

SAMPLE_RATE = 16000


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
    ) -> None:
        self.model_dir = model_dir
        self.device = device
        self.cpu_threads = cpu_threads
        self.num_workers = num_workers
        self._model: Any = None
        self._batched: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.model_dir.name

    def load(self) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self._model = WhisperModel(
            str(self.model_dir),
            device=self.device.device,
            compute_type=self.device.compute_type,
            cpu_threads=self.cpu_threads,
            num_workers=self.num_workers,
            local_files_only=True,
        )
        self._batched = BatchedInferencePipeline(self._model)

    def transcribe(
        self,
        audio: np.ndarray,
        options: TranscribeOptions,
        on_progress: Callable[[float], None],
        cancelled: Callable[[], bool],
    ) -> TranscribeResult:
        if self._model is None:
            raise RuntimeError("model not loaded")
        duration = audio.shape[0] / SAMPLE_RATE
        kwargs: dict[str, Any] = {
            "language": options.language,
            "task": options.task,
            "beam_size": options.beam_size,
            "vad_filter": options.vad_filter,
            "word_timestamps": options.word_timestamps,
            "initial_prompt": options.initial_prompt,
            "temperature": options.temperature,
        }
        # The batched pipeline needs VAD (or explicit clips) to cut long audio into chunks.
        if options.batch_size > 1 and options.vad_filter:
            segments, info = self._batched.transcribe(
                audio, batch_size=options.batch_size, **kwargs
            )
        else:
            segments, info = self._model.transcribe(audio, **kwargs)

        out: list[Segment] = []
        for seg in segments:  # a generator: decoding happens as we iterate
            if cancelled():
                raise Cancelled
            words = (
                [
                    Word(start=w.start, end=w.end, word=w.word, probability=w.probability)
                    for w in seg.words
                ]
                if options.word_timestamps and seg.words
                else None
            )
            out.append(Segment(start=seg.start, end=seg.end, text=seg.text.strip(), words=words))
            if duration > 0:
                on_progress(min(seg.end / duration, 1.0))
        return TranscribeResult(
            text=" ".join(s.text for s in out if s.text).strip(),
            language=info.language,
            language_probability=float(info.language_probability),
            duration_s=round(duration, 3),
            segments=out,
            model=self.name,
        )
