"""What a summary is made from, and how long inputs are cut."""

from __future__ import annotations

import json

import pytest

from services.srt_fixer import summary


def test_a_transcript_gives_its_text() -> None:
    doc = {"text": "hello there", "segments": [{"text": "ignored"}]}
    assert summary.text_of(json.dumps(doc).encode()) == "hello there"


def test_an_srt_gives_its_cues_in_order() -> None:
    data = (
        b"1\n00:00:01,000 --> 00:00:02,000\nfirst\nline\n\n"
        b"2\n00:00:03,000 --> 00:00:04,000\nsecond\n"
    )
    assert summary.text_of(data) == "first line second"


@pytest.mark.parametrize("data", [b"just words", b'{"no": "text"}', b""])
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(summary.NotATextSource):
        summary.text_of(data)


def test_long_text_is_cut_at_word_boundaries() -> None:
    text = " ".join(f"w{i}" for i in range(10_000))
    pieces = summary.split(text, size=1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert " ".join(pieces) == text
