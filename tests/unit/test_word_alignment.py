"""Word alignment of a job's batches: in chunk order whatever order they are decoded in,
each batch going on from the "last speech" time the one before it left."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from services.transcriber.adapters.alignment import InOrder, Unaligned
from services.transcriber.adapters.chunks import PreparedAudio


class Model:
    """Stands in for WhisperModel.add_word_timestamps: records each call, marks the
    sub-segments with their batch, and returns a "last speech" time of its own."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float | None]] = []

    def add_word_timestamps(
        self,
        outputs: list[list[dict[str, Any]]],
        tokenizer: Any,
        encoder_output: Any,
        segment_sizes: list[int],
        prepend: str,
        append: str,
        last_speech: float | None,
    ) -> float:
        assert len(segment_sizes) == len(outputs)
        self.calls.append((encoder_output, last_speech))
        for chunk in outputs:
            for part in chunk:
                part["words"] = [encoder_output]
        return float(len(self.calls))


def batch(name: str, first: int, chunks: int) -> Unaligned:
    outputs = [[{"text": f"{name}{i}"}] for i in range(chunks)]
    return Unaligned(first, outputs, name, [3000] * chunks)


def prepared() -> PreparedAudio:
    options = SimpleNamespace(prepend_punctuations="'", append_punctuations=".")
    return cast(PreparedAudio, SimpleNamespace(options=options, tokenizer=object()))


def test_batches_are_aligned_in_order_whatever_order_they_come_back_in() -> None:
    model = Model()
    words = InOrder(model, prepared())
    b0, b2, b3 = batch("b0", 0, 2), batch("b2", 2, 1), batch("b3", 3, 2)
    assert words.add(b3) == []  # it waits for the batches before it
    got = words.add(b0)
    assert [index for index, _ in got] == [0, 1]
    assert words.add(b0) == []  # the same batch again, named by its second chunk
    got = words.add(b2)
    assert [index for index, _ in got] == [2, 3, 4]  # b2, then b3 that waited
    assert [part[0]["words"] for _, part in got] == [["b2"], ["b3"], ["b3"]]
    # the chain the pipeline keeps: 0 for the first batch, then what the last one left
    assert model.calls == [("b0", 0.0), ("b2", 1.0), ("b3", 2.0)]


def test_an_aligned_batch_lets_go_of_its_encoder_output() -> None:
    words = InOrder(Model(), prepared())
    first = batch("b0", 0, 1)
    words.add(first)
    assert first.encoder_output is None
