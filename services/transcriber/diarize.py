"""Who spoke when, on a finished transcript: windows over its words → voice embeddings
→ clusters → a speaker on every word and segment (see diarization/).

The voice encoder is loaded on the first diarized job, once per process, and shared.
It runs in the job's thread (the whisper model workers keep their own threads).
"""

from __future__ import annotations

import threading

import numpy as np

from contracts import TranscribeOptions, TranscribeResult
from services.common.errors import InvalidOptions
from services.common.logging import get_logger

from .adapters.voice_encoder import SAMPLE_RATE, EncoderMissing, VoiceEncoder, weights_path
from .diarization import clustering, speakers
from .diarization.windows import speech_regions, windows

log = get_logger(__name__)


class Diarizer:
    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._encoder: VoiceEncoder | None = None
        self._loading = threading.Lock()

    def check_available(self) -> None:
        """InvalidOptions unless this process can diarize (the extra is installed)."""
        if self._encoder is not None:
            return
        try:
            weights_path()
            import torch  # noqa: F401
        except (EncoderMissing, ImportError) as exc:
            raise InvalidOptions(
                f"diarize: this transcriber cannot diarize ({exc}); install the `diarization` extra"
            ) from exc

    def _loaded(self) -> VoiceEncoder:
        with self._loading:
            if self._encoder is None:
                try:
                    self._encoder = VoiceEncoder(self._threads)
                except (EncoderMissing, ImportError) as exc:
                    raise InvalidOptions(
                        f"diarize: this transcriber cannot diarize ({exc}); install the "
                        "`diarization` extra"
                    ) from exc
                log.info("voice encoder loaded", threads=self._threads)
            return self._encoder

    def label(
        self, audio: np.ndarray, result: TranscribeResult, options: TranscribeOptions
    ) -> TranscribeResult:
        """`result` with speakers on its words and segments, and its `speakers`."""
        words = [(w.start, w.end) for s in result.segments for w in s.words or []]
        if not words:
            return result.model_copy(update={"speakers": []})
        duration = audio.shape[0] / SAMPLE_RATE
        spans = windows(speech_regions(words), duration)
        embeddings = self._loaded().embed(audio, [(w.start, w.end) for w in spans])
        labels = clustering.cluster(
            embeddings, options.num_speakers, options.min_speakers, options.max_speakers
        )
        per_word = speakers.word_speakers(words, spans, labels.tolist())
        segments = speakers.apply(result.segments, per_word)
        return result.model_copy(
            update={"segments": segments, "speakers": speakers.talk_times(segments)}
        )
