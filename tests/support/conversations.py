"""Conversations made at test time: espeak-ng voices taking turns, with the truth of
who speaks when (no media is committed). For the diarization tests and the accuracy
table (`python -m tests.bench.diarization`)."""

from __future__ import annotations

import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
GAP_S = 0.5
LINES = [
    "Good morning, thank you for coming in today.",
    "Thanks for having me, I am glad to be here.",
    "Let us start with the budget for next year.",
    "The numbers look better than we expected in spring.",
    "Could you explain why the travel costs went up?",
    "We opened two new offices, so people travelled more.",
    "That makes sense, and what about the new hires?",
    "We hired twelve engineers and three designers.",
    "Are you planning to hire more people next quarter?",
    "Only if the second product launch goes well.",
    "When is that launch planned at the moment?",
    "Early in March, if the testing goes to plan.",
]


@dataclass(frozen=True)
class Turn:
    speaker: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Conversation:
    name: str
    voices: tuple[str, ...]
    turns: tuple[Turn, ...]
    path: Path

    @property
    def speakers(self) -> int:
        return len({t.speaker for t in self.turns})

    def speaker_at(self, t: float) -> int | None:
        """Who speaks at `t` (seconds); None in a pause."""
        return next((turn.speaker for turn in self.turns if turn.start <= t <= turn.end), None)


def _voice(text: str, voice: str, tmp: Path) -> np.ndarray:
    raw = tmp / "turn.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(raw), text], check=True)
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(raw), "-ar", str(RATE), "-ac", "1", "-f", "s16le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, dtype=np.int16)


def make(name: str, voices: tuple[str, ...], order: list[int], out_dir: Path) -> Conversation:
    """Turns spoken by `voices[order[i]]`, lines taken in turn, half a second apart."""
    pieces, turns, t = [], [], 0.0
    gap = np.zeros(int(GAP_S * RATE), dtype=np.int16)
    with tempfile.TemporaryDirectory() as tmp:
        for i, who in enumerate(order):
            text = LINES[i % len(LINES)]
            samples = _voice(text, voices[who], Path(tmp))
            turns.append(Turn(who, t, t + len(samples) / RATE, text))
            pieces += [samples, gap]
            t += (len(samples) + len(gap)) / RATE
    path = out_dir / f"{name}.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.concatenate(pieces).tobytes())
    return Conversation(name, voices, tuple(turns), path)


# (name, voices, who speaks each turn): one to four voices (en-us variants: espeak-ng
# ignores a variant on en-gb), short and long turns.
SCRIPTS: list[tuple[str, tuple[str, ...], list[int]]] = [
    ("two-alternating", ("en-us+m3", "en-us+f3"), [0, 1] * 5),
    ("two-uneven", ("en-us+m1", "en-us+f4"), [0, 0, 1, 0, 0, 1, 1, 0, 1, 0]),
    ("three", ("en-us+m3", "en-us+f3", "en-us+m7"), [0, 1, 2, 0, 2, 1, 0, 1, 2, 0]),
    (
        "four",
        ("en-us+m3", "en-us+f3", "en-us+m7", "en-us+f4"),
        [0, 1, 2, 3, 1, 0, 3, 2, 0, 1, 2, 3],
    ),
    ("two-similar-men", ("en-us+m1", "en-us+m3"), [0, 1] * 5),
    ("one", ("en-us+f3",), [0] * 6),
]
