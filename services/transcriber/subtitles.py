"""Subtitle cues from word timings: pure logic, no I/O.

Cues are cut at word boundaries, never mid-word, when adding the next word would
break a limit (characters per line x lines, cue duration) or after a pause or a
sentence end. Lines inside a cue are balanced (the narrowest wrap that still needs
the fewest lines). Cues are in time order and never overlap; consecutive cues keep at
least `min_cue_gap_ms` between them where the timing allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import srt
import webvtt

from contracts import Segment, SrtOptions

PAUSE_S = 1.0  # a silence this long starts a new cue
# Latin, and the CJK full-width forms (written as escapes to keep them unambiguous).
SENTENCE_END = (".", "?", "!", "\u2026", "\u3002", "\uff1f", "\uff01")


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def words_of(segments: Sequence[Segment]) -> list[TimedWord]:
    """Words in time order; a segment without word timings is spread over its span."""
    out: list[TimedWord] = []
    for seg in segments:
        if seg.words:
            out += [TimedWord(w.start, w.end, w.word.strip()) for w in seg.words if w.word.strip()]
        else:
            out += _spread(seg.start, seg.end, seg.text.split())
    # Whisper's word times can step back a little: keep them monotonic.
    fixed: list[TimedWord] = []
    last = 0.0
    for w in out:
        start = max(w.start, last)
        end = max(w.end, start)
        fixed.append(TimedWord(start, end, w.text))
        last = start
    return fixed


def _spread(start: float, end: float, tokens: list[str]) -> list[TimedWord]:
    total = sum(len(t) for t in tokens) or 1
    out, t = [], start
    for token in tokens:
        step = (end - start) * len(token) / total
        out.append(TimedWord(t, t + step, token))
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
    """The fewest lines of at most `max_chars`, as even in length as possible."""
    fewest = len(wrap(words, max_chars))
    lo = max((len(w) for w in words), default=0)
    hi = max(max_chars, lo)
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
        )
        for g in groups
    ]
    return _space(cues, opts.min_cue_gap_ms / 1000)


def _must_break(current: list[TimedWord], word: TimedWord, opts: SrtOptions) -> bool:
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


def _space(cues: list[Cue], gap: float) -> list[Cue]:
    """No overlap, at least `gap` between cues where possible, every cue longer than 0."""
    out: list[Cue] = []
    for i, cue in enumerate(cues):
        end = cue.end
        if i + 1 < len(cues):
            nxt = cues[i + 1].start
            end = min(end, nxt - gap) if nxt - gap > cue.start else min(end, nxt)
        if end <= cue.start:
            limit = cues[i + 1].start if i + 1 < len(cues) else cue.start + 0.5
            end = min(cue.start + 0.5, limit)
        start = cue.start
        if end <= start:  # two words sharing one instant: give this cue a millisecond
            end = start + 0.001
        out.append(Cue(round(start, 3), round(end, 3), cue.lines))
    return out


def to_srt(cues: Sequence[Cue]) -> str:
    composed: str = srt.compose(
        [
            srt.Subtitle(i + 1, dt.timedelta(seconds=c.start), dt.timedelta(seconds=c.end), c.text)
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
    doc = webvtt.WebVTT(
        captions=[webvtt.Caption(_vtt_time(c.start), _vtt_time(c.end), c.text) for c in cues]
    )
    return str(doc.content)
