"""Subtitle cues from word timings: pure logic, no I/O.

Cues are cut at word boundaries, never mid-word, when adding the next word would
break a limit (characters per line x lines, cue duration) or after a pause or a
sentence end. Lines inside a cue are balanced (the narrowest wrap that still needs
the fewest lines; only a single word longer than a line makes a line longer). Cues are
in time order, never overlap and are timed in whole milliseconds. Every cue lasts at
least `MIN_CUE_MS` (0.5 s), or until the next cue starts when that is sooner: never 0.
Consecutive cues keep at least `min_cue_gap_ms` between them where the timing allows;
the gap is shrunk rather than a cue cut below 0.5 s. Words sharing one instant (a
segment of no duration) give cues one after the other from that instant. With speakers
(diarization), a cue never spans a change of speaker: SRT prefixes the speaker's label
(not counted in the line width), VTT writes a voice span.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import srt
import webvtt

from contracts import Segment, SrtOptions

PAUSE_S = 1.0  # a silence this long starts a new cue
MIN_CUE_MS = 500  # the shortest cue wherever the next cue starts later than that
# Latin, and the CJK full-width forms (written as escapes to keep them unambiguous).
SENTENCE_END = (".", "?", "!", "\u2026", "\u3002", "\uff1f", "\uff01")


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def words_of(segments: Sequence[Segment]) -> list[TimedWord]:
    """Words in time order; a segment without word timings is spread over its span."""
    out: list[TimedWord] = []
    for seg in segments:
        if seg.words:
            out += [
                TimedWord(w.start, w.end, w.word.strip(), w.speaker or seg.speaker)
                for w in seg.words
                if w.word.strip()
            ]
        else:
            out += _spread(seg.start, seg.end, seg.text.split(), seg.speaker)
    # Whisper's word times can step back a little: keep them monotonic.
    fixed: list[TimedWord] = []
    last = 0.0
    for w in out:
        start = max(w.start, last)
        end = max(w.end, start)
        fixed.append(TimedWord(start, end, w.text, w.speaker))
        last = start
    return fixed


def _spread(start: float, end: float, tokens: list[str], speaker: str | None) -> list[TimedWord]:
    total = sum(len(t) for t in tokens) or 1
    out, t = [], start
    for token in tokens:
        step = (end - start) * len(token) / total
        out.append(TimedWord(t, t + step, token, speaker))
        t += step
    return out


def wrap(words: Sequence[str], width: int) -> list[str]:
    """Greedy wrap at `width` (a longer word gets a line of its own)."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def balanced(words: Sequence[str], max_chars: int) -> list[str]:
    """The fewest lines of at most `max_chars`, as even in length as possible.

    Only a single word longer than `max_chars` makes a line longer: it gets a line of
    its own, and the narrowest width is looked for at or under `max_chars`, never at that
    word's length (which would let the short words around it fill wider lines).
    """
    fewest = len(wrap(words, max_chars))
    lo = max((len(w) for w in words if len(w) <= max_chars), default=1)
    hi = max_chars
    while lo < hi:  # narrowest width that still gives `fewest` lines
        mid = (lo + hi) // 2
        if len(wrap(words, mid)) <= fewest:
            hi = mid
        else:
            lo = mid + 1
    return wrap(words, lo)


def build_cues(words: Iterable[TimedWord], opts: SrtOptions) -> list[Cue]:
    groups: list[list[TimedWord]] = []
    current: list[TimedWord] = []
    for word in words:
        if current and _must_break(current, word, opts):
            groups.append(current)
            current = []
        current.append(word)
    if current:
        groups.append(current)
    cues = [
        Cue(
            g[0].start,
            min(g[-1].end, g[0].start + opts.max_cue_duration_s),
            tuple(balanced([w.text for w in g], opts.max_chars_per_line)),
            g[0].speaker,
        )
        for g in groups
    ]
    return _space(cues, opts.min_cue_gap_ms)


def _must_break(current: list[TimedWord], word: TimedWord, opts: SrtOptions) -> bool:
    if word.speaker != current[-1].speaker:
        return True
    texts = [w.text for w in current] + [word.text]
    if len(wrap(texts, opts.max_chars_per_line)) > opts.max_lines_per_cue:
        return True
    if word.end - current[0].start > opts.max_cue_duration_s:
        return True
    if word.start - current[-1].end >= PAUSE_S:
        return True
    # End a cue at a sentence end once it holds a reasonable amount of text.
    filled = len(" ".join(texts[:-1])) >= opts.max_chars_per_line * 0.5
    return current[-1].text.endswith(SENTENCE_END) and filled


def _space(cues: list[Cue], gap_ms: int) -> list[Cue]:
    """Cue times in whole milliseconds: ordered, never overlapping, each longer than 0.

    A cue lasts at least `MIN_CUE_MS` (a cue of no duration too), or until the next
    cue starts when that is sooner; it is lengthened only into free time, never into
    the gap. To keep `gap_ms` before the next cue a cue is shortened, but never below
    `MIN_CUE_MS` (nor below its own words' end when they are shorter): the gap shrinks
    first. A cue that starts no later than the one before it (words sharing one
    instant, or one millisecond) is moved to start when that one ends.
    """
    out: list[Cue] = []
    floor = 0  # where the previous cue ends
    for i, cue in enumerate(cues):
        start = max(_ms(cue.start), floor) if out else _ms(cue.start)
        own = _ms(cue.end) if _ms(cue.end) > start else start + MIN_CUE_MS
        end = max(own, start + MIN_CUE_MS)
        nxt = _ms(cues[i + 1].start) if i + 1 < len(cues) else None
        if nxt is not None and nxt > start:
            if end > nxt - gap_ms:
                end = max(nxt - gap_ms, min(own, start + MIN_CUE_MS))
            end = min(end, nxt)
        out.append(Cue(start / 1000, end / 1000, cue.lines, cue.speaker))
        floor = end
    return out


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def to_srt(cues: Sequence[Cue], speaker_labels: bool = False) -> str:
    """SRT; with `speaker_labels`, each cue of a known speaker starts "SPEAKER_00: "."""
    composed: str = srt.compose(
        [
            srt.Subtitle(
                i + 1,
                dt.timedelta(seconds=c.start),
                dt.timedelta(seconds=c.end),
                f"{c.speaker}: {c.text}" if speaker_labels and c.speaker else c.text,
            )
            for i, c in enumerate(cues)
        ],
        reindex=False,
    )
    return composed


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT; a cue of a known speaker is a voice span (`<v SPEAKER_00>…</v>`)."""
    doc = webvtt.WebVTT(
        captions=[
            webvtt.Caption(
                _vtt_time(c.start),
                _vtt_time(c.end),
                f"<v {c.speaker}>{c.text}</v>" if c.speaker else c.text,
            )
            for c in cues
        ]
    )
    return str(doc.content)
