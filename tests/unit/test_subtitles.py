"""Cue building and SRT/VTT rendering, on many generated word sequences."""

from __future__ import annotations

import io
import itertools
import random

import pytest
import srt
import webvtt

from contracts import Segment, SrtOptions, Word
from services.transcriber.subtitles import (
    TimedWord,
    balanced,
    build_cues,
    to_srt,
    to_vtt,
    words_of,
)

VOCAB = (
    "a the system turns long recordings into written text and every job reports "
    "progress while it works nobody waits minutes. done? yes! transcription"
).split()


def random_words(seed: int, count: int = 300) -> list[TimedWord]:
    rnd = random.Random(seed)
    t, out = 0.0, []
    for _ in range(count):
        t += rnd.choice([0.0, 0.02, 0.05, 0.1, 0.1, 0.3, 1.5])  # sometimes a pause
        length = rnd.uniform(0.1, 0.6)
        out.append(TimedWord(round(t, 3), round(t + length, 3), rnd.choice(VOCAB)))
        t += length
    return out


OPTION_SETS = [
    SrtOptions(),
    SrtOptions(max_chars_per_line=20, max_lines_per_cue=1, max_cue_duration_s=3),
    SrtOptions(max_chars_per_line=32, max_lines_per_cue=3, min_cue_gap_ms=200),
]


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("opts", OPTION_SETS, ids=["default", "narrow", "three-lines"])
def test_cues_respect_every_limit_and_keep_every_word(seed: int, opts: SrtOptions) -> None:
    words = random_words(seed)
    cues = build_cues(words, opts)
    assert " ".join(" ".join(c.lines) for c in cues) == " ".join(w.text for w in words)
    for cue in cues:
        assert 1 <= len(cue.lines) <= opts.max_lines_per_cue
        assert all(len(line) <= opts.max_chars_per_line for line in cue.lines)
        assert cue.end > cue.start
        assert cue.end - cue.start <= opts.max_cue_duration_s + 1e-6
    for prev, nxt in itertools.pairwise(cues):
        assert prev.end <= nxt.start, "cues overlap"
        assert prev.start < nxt.start, "cues out of order"


def test_lines_are_balanced() -> None:
    words = "one two three four five six seven eight nine ten eleven".split()
    lines = balanced(words, 42)
    assert len(lines) == 2
    assert abs(len(lines[0]) - len(lines[1])) <= 8


def test_a_long_segment_is_split_at_word_boundaries() -> None:
    seg = Segment(
        start=0,
        end=12,
        text=" ".join(VOCAB),
        words=[Word(start=i * 0.5, end=i * 0.5 + 0.4, word=f" {w}") for i, w in enumerate(VOCAB)],
    )
    cues = build_cues(words_of([seg]), SrtOptions())
    assert len(cues) > 1
    assert {w for c in cues for line in c.lines for w in line.split()} <= set(VOCAB)


def test_segments_without_word_timings_are_spread_over_their_span() -> None:
    words = words_of([Segment(start=2, end=4, text="hello there world")])
    assert [w.text for w in words] == ["hello", "there", "world"]
    assert words[0].start == 2 and abs(words[-1].end - 4) < 1e-9


def test_srt_output_parses_with_the_srt_library() -> None:
    cues = build_cues(random_words(1), SrtOptions())
    parsed = list(srt.parse(to_srt(cues)))
    assert len(parsed) == len(cues)
    assert [round(p.start.total_seconds(), 3) for p in parsed] == [c.start for c in cues]
    assert [p.content for p in parsed] == [c.text for c in cues]


def test_vtt_output_has_a_header_and_dot_milliseconds() -> None:
    cues = build_cues(random_words(2), SrtOptions())
    text = to_vtt(cues)
    assert text.startswith("WEBVTT\n\n")
    assert "-->" in text and "," not in text.split("\n")[2]
    parsed = webvtt.from_buffer(io.StringIO(text))
    assert len(parsed.captions) == len(cues)


# --- regressions (found by tests/unit/test_properties.py) ------------------------------------


def test_short_words_after_a_word_longer_than_a_line_stay_within_the_limit() -> None:
    """Balancing used to search widths from the long word's length (15), giving
    'aaaa bbbb cccc' (14 characters) with max 10."""
    lines = balanced(["x" * 15, "aaaa", "bbbb", "cccc"], 10)
    assert lines == ["x" * 15, "aaaa bbbb", "cccc"]
    cues = build_cues(
        words_of([Segment(start=0, end=3, text=" " + "x" * 15 + " aaaa bbbb cccc")]),
        SrtOptions(max_chars_per_line=10, max_lines_per_cue=3),
    )
    assert [c.lines for c in cues] == [("x" * 15, "aaaa bbbb", "cccc")]


def test_the_lines_after_a_long_word_are_still_balanced() -> None:
    assert balanced(["x" * 15, *"abcdefgh"], 10) == ["x" * 15, "a b c d", "e f g h"]


def test_keeping_the_gap_never_empties_a_cue() -> None:
    """The next cue starts exactly the gap (80 ms) after this one: the gap shrinks, the
    cue keeps its word's time (it used to become 0.02 --> 0.02)."""
    seg = Segment(
        start=0.02,
        end=0.6,
        text=" Tomorrow afternoon",
        words=[
            Word(start=0.02, end=0.1, word=" Tomorrow"),
            Word(start=0.1, end=0.6, word=" afternoon"),
        ],
    )
    cues = build_cues(words_of([seg]), SrtOptions(max_chars_per_line=10, max_lines_per_cue=1))
    assert [(c.start, c.end, c.text) for c in cues] == [
        (0.02, 0.1, "Tomorrow"),
        (0.1, 0.6, "afternoon"),
    ]


def test_the_gap_shortens_a_cue_to_no_less_than_half_a_second() -> None:
    words = [TimedWord(0.0, 2.0, "sustained"), TimedWord(0.52, 1.5, "following")]
    cues = build_cues(words, SrtOptions(max_chars_per_line=10, max_lines_per_cue=1))
    assert [(c.start, c.end) for c in cues] == [(0.0, 0.5), (0.52, 1.5)]


def test_a_short_cue_is_lengthened_into_free_time_but_not_into_the_gap() -> None:
    words = [TimedWord(1.0, 1.1, "Certainly"), TimedWord(1.3, 1.8, "not"), TimedWord(5, 5.1, "So")]
    cues = build_cues(words, SrtOptions(max_chars_per_line=10, max_lines_per_cue=1))
    assert [c.text for c in cues] == ["Certainly", "not", "So"]
    assert [(c.start, c.end) for c in cues] == [(1.0, 1.22), (1.3, 1.8), (5.0, 5.5)]


def test_a_zero_length_segment_with_long_text_gives_cues_one_after_the_other() -> None:
    """30 words at one instant used to give 5.0-5.001 and 5.0-5.5: overlapping."""
    cues = build_cues(words_of([Segment(start=5.0, end=5.0, text="word " * 30)]), SrtOptions())
    assert [(c.start, c.end) for c in cues] == [(5.0, 5.5), (5.5, 6.0)]
    assert " ".join(c.text for c in cues).split() == ["word"] * 30
