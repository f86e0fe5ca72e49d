"""Diarization's pure parts: windows over speech, clustering, labels onto a transcript,
subtitle cues split at speaker changes, and the fixer keeping the labels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from contracts import (
    InvalidOptionsError,
    JobType,
    Segment,
    SrtOptions,
    TranscribeOptions,
    Word,
    parse_options,
)
from services.srt_fixer import fixer
from services.transcriber.diarization import clustering, speakers
from services.transcriber.diarization.windows import MAX_WINDOWS, WINDOW_S, speech_regions, windows
from services.transcriber.subtitles import build_cues, to_srt, to_vtt, words_of


def test_words_close_together_make_one_region_and_windows_cover_it() -> None:
    regions = speech_regions([(3.0, 3.4), (0.0, 0.5), (0.6, 1.0), (1.2, 2.9), (9.0, 9.2)])
    assert regions == [(0.0, 3.4), (9.0, 9.2)]
    got = windows(regions, duration_s=10.0)
    assert all(b.start >= a.start for a, b in itertools.pairwise(got))  # in order
    assert got[0].start == 0.0 and max(w.end for w in got if w.start < 5) == pytest.approx(3.4)
    short = [w for w in got if w.start > 5]
    assert len(short) == 1 and short[0].end - short[0].start == pytest.approx(WINDOW_S)
    assert short[0].start <= 9.0 and short[0].end >= 9.2


def test_a_long_file_gets_at_most_max_windows() -> None:
    assert len(windows([(0.0, 36_000.0)], 36_000.0)) <= MAX_WINDOWS
    words = [(t * 1.3, t * 1.3 + 0.4) for t in range(6000)]  # 2 hours of single words
    many = windows(speech_regions(words), 7800.0)
    assert len(many) == MAX_WINDOWS
    assert many[0].start < 10 and many[-1].end > 7700  # spread over the whole file


def blobs(sizes: list[int], seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), 32))
    rows = [c + 0.15 * rng.normal(size=(n, 32)) for c, n in zip(centres, sizes, strict=True)]
    truth = np.concatenate([[i] * n for i, n in enumerate(sizes)])
    return np.concatenate(rows), truth


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return len(set(zip(a.tolist(), b.tolist(), strict=True))) == len(set(a)) == len(set(b))


@pytest.mark.parametrize("sizes", [[40], [30, 30], [20, 50, 10], [15, 15, 15, 15]])
def test_clusters_are_found_without_being_told_how_many(sizes: list[int]) -> None:
    x, truth = blobs(sizes)
    assert same_partition(clustering.cluster(x), truth)


def test_a_given_count_or_range_is_kept() -> None:
    x, truth = blobs([20, 20, 20])
    assert len(set(clustering.cluster(x, num_speakers=2))) == 2
    assert len(set(clustering.cluster(x, max_speakers=2))) == 2
    one, _ = blobs([40])
    assert len(set(clustering.cluster(one, min_speakers=2))) == 2
    assert same_partition(clustering.cluster(x, min_speakers=1, max_speakers=5), truth)


def test_a_cluster_of_a_window_or_two_joins_the_nearest_speaker() -> None:
    x, _ = blobs([30, 30, 2])
    assert len(set(clustering.cluster(x))) == 2
    assert clustering.cluster(x[:1]).tolist() == [0] and clustering.cluster(x[:0]).size == 0


def seg(start: float, end: float, *words: tuple[float, float, str]) -> Segment:
    ws = [Word(start=a, end=b, word=f" {t}") for a, b, t in words]
    return Segment(start=start, end=end, text="".join(w.word for w in ws), words=ws, tokens=[1])


def test_a_segment_spanning_a_change_is_split_and_speakers_are_numbered_in_order() -> None:
    segments = [
        seg(0.0, 2.0, (0.0, 0.5, "Hi"), (0.6, 1.0, "there."), (1.2, 2.0, "Hello!")),
        seg(2.5, 3.5, (2.5, 3.5, "Bye.")),
    ]
    out = speakers.apply(segments, [7, 7, 3, 7])
    assert [(s.speaker, s.text.strip(), s.start, s.end) for s in out] == [
        ("SPEAKER_00", "Hi there.", 0.0, 1.0),
        ("SPEAKER_01", "Hello!", 1.2, 2.0),
        ("SPEAKER_00", "Bye.", 2.5, 3.5),
    ]
    assert [w.speaker for s in out for w in s.words or []] == ["SPEAKER_00"] * 2 + [
        "SPEAKER_01",
        "SPEAKER_00",
    ]
    assert out[0].tokens is None and out[2].tokens == [1]  # split segments lose token ids
    times = speakers.talk_times(out)
    assert [(t.speaker, t.talk_time_s) for t in times] == [("SPEAKER_00", 2.0), ("SPEAKER_01", 0.8)]


def test_each_word_takes_the_speaker_whose_windows_cover_it_most() -> None:
    from services.transcriber.diarization.windows import Window

    spans = [Window(0.0, 1.6), Window(0.4, 2.0), Window(1.5, 3.1), Window(9.0, 10.6)]
    labels = [0, 0, 1, 1]
    got = speakers.word_speakers([(0.1, 0.3), (1.55, 1.7), (2.5, 2.9), (20.0, 20.5)], spans, labels)
    assert got == [0, 0, 1, 1]  # the last by the nearest window


def test_cues_never_span_a_speaker_change_and_carry_their_labels() -> None:
    segments = speakers.apply(
        [
            seg(
                0.0,
                2.0,
                (0.0, 0.4, "Yes"),
                (0.5, 0.9, "indeed"),
                (1.0, 1.4, "no"),
                (1.5, 2.0, "way"),
            )
        ],
        [0, 0, 1, 1],
    )
    cues = build_cues(words_of(segments), SrtOptions())
    assert [(c.speaker, c.text) for c in cues] == [
        ("SPEAKER_00", "Yes indeed"),
        ("SPEAKER_01", "no way"),
    ]
    assert "SPEAKER_00: Yes indeed" in to_srt(cues, speaker_labels=True)
    assert "SPEAKER_" not in to_srt(cues, speaker_labels=False)
    vtt = to_vtt(cues)
    assert "<v SPEAKER_00>Yes indeed</v>" in vtt and "<v SPEAKER_01>no way</v>" in vtt


def test_speaker_counts_need_diarize_and_agree() -> None:
    assert TranscribeOptions(diarize=True, min_speakers=2, max_speakers=3).max_speakers == 3
    for bad in [
        {"num_speakers": 2},
        {"diarize": True, "num_speakers": 2, "max_speakers": 3},
        {"diarize": True, "min_speakers": 4, "max_speakers": 2},
        {"diarize": True, "num_speakers": 0},
    ]:
        with pytest.raises(InvalidOptionsError):
            parse_options(JobType.TRANSCRIBE, bad)


def test_the_fixer_never_shows_the_model_a_label_and_puts_it_back() -> None:
    cues = fixer.parse(
        "1\n00:00:01,000 --> 00:00:02,000\nSPEAKER_01: teh cat\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nno label here\n"
    )
    chunk = fixer.chunk(cues, 10)[0]
    sent = fixer.messages(chunk, "fix")[1]["content"]
    assert "SPEAKER_" not in sent and "teh cat" in sent
    outcome = fixer.Outcome(cues=[])
    fixer.apply(chunk, {"0": "the cat", "1": "SPEAKER_03: No label here"}, None, outcome)
    assert [c.content for c in outcome.cues] == ["SPEAKER_01: the cat", "No label here"]


def test_segments_without_words_take_a_neighbours_speaker_and_ids_are_renumbered() -> None:
    silent = Segment(start=0.0, end=0.5, text=" (music)", id=0)
    talk = seg(1.0, 2.0, (1.0, 1.4, "Hi"), (1.5, 2.0, "you")).model_copy(update={"id": 1})
    out = speakers.apply([silent, talk], [4, 2])
    assert [(s.id, s.speaker) for s in out] == [
        (0, "SPEAKER_00"),
        (1, "SPEAKER_00"),
        (2, "SPEAKER_01"),
    ]
