"""Word timestamps apart from decoding: a job's batches decode in parallel, and are
aligned to words one after another, in chunk order, on the job's own thread.

faster-whisper's pipeline aligns each batch right after decoding it, carrying a "last
speech" time from one batch to the next. Done inside the batch, that made a
word-timestamp job's batches wait for each other, so a lone such job used one model
worker of several. Here a batch is decoded without alignment (`decode_batch`), keeps its
encoder output, and `InOrder` aligns the batches as they come back, in order, with the
very call and "last speech" chain the pipeline uses: the words are the pipeline's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from math import ceil
from typing import Any

import numpy as np

from .chunks import PreparedAudio
from .encoded import ReusingEncoder


@dataclass(eq=False)
class Unaligned:
    """One word-timestamp batch, decoded, waiting for its turn to be aligned."""

    first: int  # index of its first chunk in the job (a job's batch is consecutive chunks)
    outputs: list[list[dict[str, Any]]]  # per chunk, its sub-segments
    encoder_output: Any  # ctranslate2.StorageView of the batch
    segment_sizes: list[int]  # frames per chunk, as the pipeline computes them


@cache
def _pipeline_type() -> type:
    from faster_whisper import BatchedInferencePipeline

    class KeepingPipeline(BatchedInferencePipeline):  # type: ignore[misc]
        """The pipeline, keeping the last batch's encoder output for alignment later."""

        encoder_output: Any = None

        def generate_segment_batched(self, features: Any, tokenizer: Any, options: Any) -> Any:
            self.encoder_output, outputs = super().generate_segment_batched(
                features, tokenizer, options
            )
            return self.encoder_output, outputs

    return KeepingPipeline


def new_pipeline(model: Any) -> Any:
    return _pipeline_type()(ReusingEncoder(model))


def decode_batch(
    pipeline: Any,
    features: np.ndarray,
    metadata: list[dict[str, Any]],
    prepared: PreparedAudio,
    first: int,
    encoded: Sequence[np.ndarray | None] = (),
) -> list[Any]:
    """Each chunk's sub-segments; for a word-timestamp job the batch as `Unaligned`
    instead (once per chunk, so every chunk's result names its batch). `encoded`: the
    rows' encoder outputs already at hand (encoded.py)."""
    options = prepared.options
    pipeline.model.rows = encoded
    try:
        if not options.word_timestamps:
            outputs: list[Any] = pipeline.forward(features, prepared.tokenizer, metadata, options)
            return outputs
        without = dataclasses.replace(options, word_timestamps=False)
        outputs = pipeline.forward(features, prepared.tokenizer, metadata, without)
        encoder_output = pipeline.encoder_output
    finally:  # nothing of this batch stays with the pipeline until the next one
        pipeline.model.rows = ()
        pipeline.encoder_output = None
    fps = pipeline.model.frames_per_second
    sizes = [int(ceil(chunk["duration"]) * fps) for chunk in metadata]  # as forward() does
    batch = Unaligned(first, outputs, encoder_output, sizes)
    return [batch] * len(metadata)


class InOrder:
    """A word-timestamp job's batches aligned in chunk order, whatever order they
    come back in."""

    def __init__(self, model: Any, prepared: PreparedAudio) -> None:
        self._model = model
        self._prepared = prepared
        self._next = 0  # the first chunk not aligned yet
        self._waiting: dict[int, Unaligned] = {}
        self._last_speech: float | None = 0.0  # the pipeline starts each file at 0

    def add(self, batch: Unaligned) -> list[tuple[int, list[dict[str, Any]]]]:
        """Takes a batch; gives back (chunk index, aligned output) for every chunk that
        can be aligned now."""
        if batch.first < self._next or batch.first in self._waiting:
            return []  # the same batch again, from another of its chunks
        self._waiting[batch.first] = batch
        aligned: list[tuple[int, list[dict[str, Any]]]] = []
        while self._next in self._waiting:
            ready = self._waiting.pop(self._next)
            options = self._prepared.options
            self._last_speech = self._model.add_word_timestamps(
                ready.outputs,
                self._prepared.tokenizer,
                ready.encoder_output,
                ready.segment_sizes,
                options.prepend_punctuations,
                options.append_punctuations,
                self._last_speech,
            )
            ready.encoder_output = None  # its memory goes now, not with the job
            aligned.extend(enumerate(ready.outputs, start=ready.first))
            self._next += len(ready.outputs)
        return aligned
