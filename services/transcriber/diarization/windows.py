"""Where to listen for voices: windows over the speech the transcript found. Pure.

The transcript's words already say where speech is, so no second VAD runs. Each stretch
of speech (words less than `JOIN_GAP_S` apart) is covered by `WINDOW_S` windows every
`STEP_S`; a stretch shorter than one window gets one window around its middle. A very
long file steps further, and at most `MAX_WINDOWS` windows (an even subset) are clustered (the
clustering holds every pairwise distance: 4,000 windows are 64 MB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WINDOW_S = 1.6
STEP_S = 0.4
JOIN_GAP_S = 0.6
MAX_WINDOWS = 4000


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


def speech_regions(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Word spans (in any order) merged where they are close."""
    regions: list[list[float]] = []
    for start, end in sorted(spans):
        if regions and start - regions[-1][1] <= JOIN_GAP_S:
            regions[-1][1] = max(regions[-1][1], end)
        else:
            regions.append([start, max(start, end)])
    return [(a, b) for a, b in regions]


def windows(regions: Sequence[tuple[float, float]], duration_s: float) -> list[Window]:
    """Windows covering `regions`, clipped to the audio."""
    speech = sum(b - a for a, b in regions)
    step = max(STEP_S, speech / MAX_WINDOWS)
    out: list[Window] = []
    for start, end in regions:
        if end - start <= WINDOW_S:
            middle = (start + end) / 2
            a = min(max(0.0, middle - WINDOW_S / 2), max(0.0, duration_s - WINDOW_S))
            out.append(Window(a, min(duration_s, a + WINDOW_S)))
            continue
        t = start
        while t + WINDOW_S <= end + 1e-9:
            out.append(Window(t, t + WINDOW_S))
            t += step
        if out[-1].end < end - 1e-6:  # the stretch's tail
            out.append(Window(end - WINDOW_S, end))
    kept = sorted((w for w in out if w.end > w.start), key=lambda w: w.start)
    if len(kept) > MAX_WINDOWS:  # many short stretches: an even subset of their windows
        every = len(kept) / MAX_WINDOWS
        kept = [kept[int(i * every)] for i in range(MAX_WINDOWS)]
    return kept
