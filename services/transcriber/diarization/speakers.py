"""Speaker labels onto a transcript: each word gets the speaker of the windows around
it, segments are split where the speaker changes, speakers are named in order of first
appearance with their talk time. Pure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contracts import Segment, SpeakerTime, Word

from .windows import WINDOW_S, Window


def label_name(n: int) -> str:
    return f"SPEAKER_{n:02d}"


def word_speakers(
    words: Sequence[tuple[float, float]], windows: Sequence[Window], labels: Sequence[int]
) -> list[int]:
    """The cluster of each word: the one whose windows cover most of it, else the
    nearest window's. `windows` in time order, none longer than WINDOW_S."""
    starts = np.array([w.start for w in windows])
    ends = np.array([w.end for w in windows])
    middles = (starts + ends) / 2
    classes = np.asarray(labels)
    out = []
    for start, end in words:
        lo, hi = np.searchsorted(starts, [start - WINDOW_S, end])  # the only candidates
        overlap = np.minimum(ends[lo:hi], end) - np.maximum(starts[lo:hi], start)
        covers = overlap > 0
        if covers.any():
            votes: dict[int, float] = {}
            for label, amount in zip(classes[lo:hi][covers], overlap[covers], strict=True):
                votes[int(label)] = votes.get(int(label), 0.0) + float(amount)
            out.append(max(votes, key=lambda k: votes[k]))
        else:
            out.append(int(classes[int(np.argmin(np.abs(middles - (start + end) / 2)))]))
    return out


def apply(segments: Sequence[Segment], clusters: Sequence[int]) -> list[Segment]:
    """`segments` (whose words are in order, one cluster each in `clusters`) with
    `speaker` on every segment and word; a segment spanning a change is split there.
    Clusters are renamed SPEAKER_00, 01, ... in order of first appearance."""
    names: dict[int, str] = {}
    for c in clusters:
        names.setdefault(c, label_name(len(names)))
    it = iter(clusters)
    out: list[Segment] = []
    for seg in segments:
        words = seg.words or []
        if not words:  # no words to go by: the speaker before it (or after, at the start)
            out.append(seg.model_copy(update={"speaker": out[-1].speaker if out else None}))
            continue
        labelled = [w.model_copy(update={"speaker": names[next(it)]}) for w in words]
        out += _split(seg, labelled)
    first = next((s.speaker for s in out if s.speaker is not None), None)
    renumber = all(s.id is not None for s in segments)
    return [
        s.model_copy(
            update={
                "speaker": s.speaker or first,
                **({"id": i} if renumber else {}),
            }
        )
        for i, s in enumerate(out)
    ]


def _split(seg: Segment, words: list[Word]) -> list[Segment]:
    runs: list[list[Word]] = []
    for w in words:
        if runs and runs[-1][-1].speaker == w.speaker:
            runs[-1].append(w)
        else:
            runs.append([w])
    if len(runs) == 1:
        return [seg.model_copy(update={"words": words, "speaker": words[0].speaker})]
    return [
        seg.model_copy(
            update={
                "start": run[0].start if i else seg.start,
                "end": run[-1].end if i < len(runs) - 1 else seg.end,
                "text": "".join(w.word for w in run).strip(),
                "words": run,
                "speaker": run[0].speaker,
                "tokens": None,  # token ids belong to the whole decoded segment
            }
        )
        for i, run in enumerate(runs)
    ]


def talk_times(segments: Sequence[Segment]) -> list[SpeakerTime]:
    """Each speaker's summed segment time, in order of first appearance."""
    totals: dict[str, float] = {}
    for seg in segments:
        if seg.speaker is not None:
            totals[seg.speaker] = totals.get(seg.speaker, 0.0) + max(0.0, seg.end - seg.start)
    return [SpeakerTime(speaker=s, talk_time_s=round(t, 3)) for s, t in totals.items()]
