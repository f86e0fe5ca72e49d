"""One lone word-timestamp job (a subtitle job alone on a replica), at engine level, with
the transcriber's CPU defaults (two model workers, one thread each). Prints one JSON line.

To compare two versions side by side, run it from each tree in turn, interleaved:
    for i in 1 2 3; do for tree in /path/to/old .; do
      (cd $tree && python -m tests.bench.lone_words speech.wav 12); done; done
The file is repeated N times with 2-s pauses, so it cuts into many chunks and batches.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from contracts import TranscribeOptions
from services.transcriber.adapters.chunks import SAMPLE_RATE
from services.transcriber.adapters.model_store import packaged_model
from services.transcriber.adapters.whisper import DeviceChoice, WhisperEngine, decode


def main() -> None:
    audio = decode(Path(sys.argv[1]))
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    pause = np.zeros(SAMPLE_RATE * 2, dtype=audio.dtype)
    long = np.concatenate([audio, pause] * repeats)
    with tempfile.TemporaryDirectory() as models:
        engine = WhisperEngine(
            packaged_model(Path(models)), DeviceChoice("cpu", "int8"), cpu_threads=1, num_workers=2
        )
        engine.load()
        started = time.monotonic()
        result = engine.transcribe(
            long, TranscribeOptions(word_timestamps=True), lambda _: None, lambda: False
        )
        took = time.monotonic() - started
        engine.close()
    words = sum(len(s.words or []) for s in result.segments)
    print(
        json.dumps(
            {
                "tree": str(Path.cwd()),
                "seconds": round(took, 2),
                "audio_s": round(long.shape[0] / SAMPLE_RATE, 1),
                "words": words,
            }
        )
    )


if __name__ == "__main__":
    main()
