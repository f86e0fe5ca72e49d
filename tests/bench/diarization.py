"""Diarization accuracy and cost on conversations made here with espeak-ng voices
(tests/support/conversations.py; no media committed): speakers found against the truth,
share of words on the right speaker, and the diarizer's time beside the transcription's.

    python -m tests.bench.diarization        (part of `make bench`)

Writes tests/bench/results/diarization.json; the README's table is this file's.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from contracts import TranscribeOptions
from services.transcriber.adapters.model_store import packaged_model
from services.transcriber.adapters.whisper import DeviceChoice, WhisperEngine, decode
from services.transcriber.diarize import Diarizer
from tests.bench.run import write
from tests.support import conversations


def right_share(talk: conversations.Conversation, labelled: list[tuple[str, float]]) -> float:
    """Words on the right speaker, of the words spoken in a turn: labels are matched one
    to one with the true speakers (the matching that gets most words right), so a merged
    or an extra speaker costs its words."""
    from scipy.optimize import linear_sum_assignment

    pairs = [(label, talk.speaker_at(t)) for label, t in labelled]
    pairs = [(label, truth) for label, truth in pairs if truth is not None]
    labels = sorted({label for label, _ in pairs})
    truths = sorted({truth for _, truth in pairs})
    counts = Counter(pairs)
    table = [[counts[(label, truth)] for truth in truths] for label in labels]
    rows, cols = linear_sum_assignment(table, maximize=True)
    right = sum(table[r][c] for r, c in zip(rows, cols, strict=True))
    return right / max(1, len(pairs))


def run_one(
    engine: WhisperEngine, diarizer: Diarizer, talk: conversations.Conversation, **counts: Any
) -> dict[str, Any]:
    audio = decode(talk.path)
    options = TranscribeOptions(language="en", word_timestamps=True, diarize=True, **counts)
    t0 = time.perf_counter()
    result = engine.transcribe(audio, options, lambda _: None, lambda: False)
    t1 = time.perf_counter()
    labelled = diarizer.label(audio, result, options)
    t2 = time.perf_counter()
    words = [
        (w.speaker or "", (w.start + w.end) / 2) for s in labelled.segments for w in s.words or []
    ]
    return {
        "conversation": talk.name,
        "voices": list(talk.voices),
        "audio_s": round(len(audio) / 16000, 1),
        "given": counts or "auto",
        "speakers": talk.speakers,
        "found": len(labelled.speakers or []),
        "words_on_right_speaker": round(right_share(talk, words), 3),
        "transcribe_s": round(t1 - t0, 2),
        "diarize_s": round(t2 - t1, 2),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine = WhisperEngine(packaged_model(root / "models"), DeviceChoice("cpu", "int8"))
        engine.load()
        diarizer = Diarizer()
        rows = []
        for name, voices, order in conversations.SCRIPTS:
            talk = conversations.make(name, voices, order, root)
            rows.append(run_one(engine, diarizer, talk))
            if talk.speakers > 1:
                rows.append(run_one(engine, diarizer, talk, num_speakers=talk.speakers))
            print(rows[-1] if talk.speakers == 1 else rows[-2:])
        engine.close()
    auto = [r for r in rows if r["given"] == "auto"]
    write(
        "diarization",
        {
            "rows": rows,
            "auto_count_right": f"{sum(r['found'] == r['speakers'] for r in auto)} of {len(auto)}",
            "diarize_over_transcribe": round(
                sum(r["diarize_s"] for r in rows) / sum(r["transcribe_s"] for r in rows), 3
            ),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        },
    )


if __name__ == "__main__":
    main()
