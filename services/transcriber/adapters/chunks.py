"""One job's audio as decoder-ready chunks, and its chunks' outputs back into segments.

This is faster-whisper's `BatchedInferencePipeline.transcribe` cut open at its batch loop
(same VAD cut, features and options), so that chunks of several jobs can share one batch
on the model (batcher.py) and each job still gets exactly the segments the pipeline
would have given it. Where the language is detected on exactly the first chunk's own
window (the file is that one chunk, or the chunk fills its 30 s), the detection's
encoder output is kept on a CPU for the chunk's batch (encoded.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from contracts import TranscribeOptions

SAMPLE_RATE = 16000
_jobs = itertools.count()


@dataclass(frozen=True)
class BatchKey:
    """What chunks must share to be decoded in one `generate` call: one prompt (task,
    language, initial prompt), one search (beam, temperature), one alignment pass."""

    task: str
    language: str
    initial_prompt: str | None
    beam_size: int
    temperature: float
    word_timestamps: bool
    batch_size: int
    # Word alignment takes the batch's encoder output, one job's rows only (see
    # alignment.py): such a job's chunks are batched among themselves.
    alone: int | None = None


@dataclass
class PreparedAudio:
    key: BatchKey
    features: list[np.ndarray]  # one (n_mels, 3000) window per chunk
    chunks: list[dict[str, Any]]  # faster-whisper's chunk metadata: offset, duration
    clips: list[dict[str, int]]  # speech timestamps (samples), to map times back
    tokenizer: Any
    options: Any  # faster_whisper TranscriptionOptions
    language: str
    language_probability: float
    duration: float
    # The first chunk's encoder output (1, frames, width), from the language detection;
    # None where no detection ran, or on CUDA (the output lives on the device there).
    first_encoded: np.ndarray | None = None


def prepare(model: Any, audio: np.ndarray, options: TranscribeOptions) -> PreparedAudio:
    """VAD-cut `audio` into ≤30-s chunks and compute their features (CPU, no decoding)."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

    chunk_length = model.feature_extractor.chunk_length
    clips = get_speech_timestamps(
        audio, VadOptions(max_speech_duration_s=chunk_length, min_silence_duration_ms=160)
    )
    audio_chunks, chunks = collect_chunks(audio, clips, max_duration=chunk_length)
    if not clips:  # no speech: nothing to decode (collect_chunks still gives one empty chunk)
        audio_chunks, chunks = [], []
    raw = [model.feature_extractor(chunk)[..., :-1] for chunk in audio_chunks]
    features = [pad_or_trim(feature) for feature in raw]

    language, probability, first_encoded = _language(model, options, raw, features)
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task=options.task, language=language
    )
    key = BatchKey(
        task=options.task,
        language=language,
        initial_prompt=options.initial_prompt,
        beam_size=options.beam_size,
        temperature=options.temperature,
        word_timestamps=options.word_timestamps,
        batch_size=options.batch_size,
        alone=next(_jobs) if options.word_timestamps else None,
    )
    return PreparedAudio(
        key=key,
        features=features,
        chunks=chunks,
        clips=clips,
        tokenizer=tokenizer,
        options=_decoding_options(tokenizer, key),
        language=language,
        language_probability=probability,
        duration=audio.shape[0] / SAMPLE_RATE,
        first_encoded=first_encoded,
    )


def _language(
    model: Any, options: TranscribeOptions, raw: list[np.ndarray], padded: list[np.ndarray]
) -> tuple[str, float, np.ndarray | None]:
    """The language, its probability and, on a CPU, the first chunk's encoder output
    when the detection ran on exactly that chunk's window."""
    if options.language is not None:
        return (options.language if model.model.is_multilingual else "en"), 1.0, None
    if not model.model.is_multilingual:
        return "en", 1.0, None
    window = model.feature_extractor.nb_max_frames
    if len(raw) == 1 or (raw and raw[0].shape[-1] >= window):
        # The pipeline's window (below) is this chunk's own, but for the one dummy frame
        # after a single short chunk. detect_language's one-window case: the most
        # probable language token.
        encoded = model.encode(padded[0])
        token, probability = model.model.detect_language(encoded)[0][0]
        kept = np.asarray(encoded) if model.model.device == "cpu" else None
        return str(token)[2:-2], float(probability), kept
    # The pipeline's own call: the chunks' features run together (a short first chunk
    # then gets the start of the next), a dummy frame standing in for no speech.
    dummy = np.full((model.model.n_mels, 1), -1.5, dtype="float32")
    language, probability, _ = model.detect_language(
        features=np.concatenate([*raw, dummy], axis=1),
        language_detection_segments=1,
        language_detection_threshold=0.5,
    )
    return str(language), float(probability), None


def _pipeline_default(name: str) -> Any:
    import inspect

    from faster_whisper import BatchedInferencePipeline

    return inspect.signature(BatchedInferencePipeline.transcribe).parameters[name].default


def _decoding_options(tokenizer: Any, key: BatchKey) -> Any:
    from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

    return TranscriptionOptions(
        beam_size=key.beam_size,
        best_of=5,
        patience=1,
        length_penalty=1,
        repetition_penalty=1,
        no_repeat_ngram_size=0,
        log_prob_threshold=-1.0,
        no_speech_threshold=0.6,
        compression_ratio_threshold=2.4,
        temperatures=[key.temperature],
        initial_prompt=key.initial_prompt,
        prefix=None,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        prepend_punctuations=_pipeline_default("prepend_punctuations"),
        append_punctuations=_pipeline_default("append_punctuations"),
        max_new_tokens=None,
        hotwords=None,
        word_timestamps=key.word_timestamps,
        hallucination_silence_threshold=None,
        condition_on_previous_text=False,
        clip_timestamps=[],
        prompt_reset_on_temperature=0.5,
        multilingual=False,
        without_timestamps=True,
        max_initial_timestamp=0.0,
    )


def to_segments(prepared: PreparedAudio, outputs: list[list[dict[str, Any]]]) -> list[Any]:
    """Each chunk's decoded sub-segments (in chunk order) as faster-whisper `Segment`s on
    the original audio's clock, numbered from 1 as the pipeline numbers them."""
    from faster_whisper.transcribe import Segment, Word, restore_speech_timestamps

    temperature = prepared.options.temperatures[0]
    word_timestamps = prepared.options.word_timestamps
    segments = [
        Segment(
            id=index,
            seek=part["seek"],
            start=round(part["start"], 3),
            end=round(part["end"], 3),
            text=part["text"],
            tokens=part["tokens"],
            avg_logprob=part["avg_logprob"],
            compression_ratio=part["compression_ratio"],
            no_speech_prob=part["no_speech_prob"],
            words=[Word(**word) for word in part["words"]] if word_timestamps else None,
            temperature=temperature,
        )
        for index, part in enumerate((p for chunk in outputs for p in chunk), start=1)
    ]
    return list(restore_speech_timestamps(segments, prepared.clips, SAMPLE_RATE))
