"""ffmpeg, a real consumer of our subtitles, reads the SRT we write."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from contracts import SrtOptions
from services.transcriber.subtitles import build_cues, to_srt
from tests.support.infra import unavailable
from tests.unit.test_subtitles import random_words


def test_ffmpeg_reads_the_srt_and_converts_it_to_vtt(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        unavailable("ffmpeg", RuntimeError("ffmpeg not installed; run make system-deps"))
    source = tmp_path / "out.srt"
    source.write_text(to_srt(build_cues(random_words(3), SrtOptions())))
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), str(tmp_path / "out.vtt")],
        check=True,
    )
    assert (tmp_path / "out.vtt").read_text().startswith("WEBVTT")
