"""The `jetscribe` command, built on `jetscribe.client`:

    jetscribe transcribe talk.mp4 interview.wav --format srt --out subs/
    jetscribe jobs --status failed
    jetscribe follow <id>

See `jetscribe --help` and `jetscribe COMMAND --help`.
"""

from .app import app, main

__all__ = ["app", "main"]
