"""Burnt-in subtitles land where `subtitle_style.position` says: ffmpeg and libass on a
plain grey picture, the drawn rows found by comparing with the picture alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from contracts import ConvertOptions
from services.converter.adapters.ffmpeg import build_command
from tests.support.infra import unavailable

SUB = "6f1c1b1e-0000-4000-8000-000000000000"
W, H = 320, 240


def frame(path: Path) -> np.ndarray:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", "1.5", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(out, dtype=np.uint8).reshape(H, W).astype(int)


@pytest.fixture(scope="module")
def grey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        unavailable("ffmpeg", RuntimeError("ffmpeg not installed; run make system-deps"))
    tmp = tmp_path_factory.mktemp("burn")
    (tmp / "cue.srt").write_text("1\n00:00:00,500 --> 00:00:03,000\nWhere am I drawn\n")
    video = tmp / "grey.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=gray:size={W}x{H}:d=3",
         "-c:v", "libx264", "-preset", "ultrafast", str(video)],
        check=True,
    )  # fmt: skip
    return video


@pytest.mark.parametrize(("position", "band"), [("top", 0), ("middle", 1), ("bottom", 2)])
def test_the_text_is_drawn_in_the_third_its_position_names(
    grey: Path, position: str, band: int
) -> None:
    options = ConvertOptions(
        burn_subtitles=True, subtitles=[{"file_id": SUB}], subtitle_style={"position": position}
    )
    out = grey.with_name(f"{position}.mp4")
    srt = str(grey.with_name("cue.srt"))
    subprocess.run(build_command("ffmpeg", str(grey), str(out), options, True, [srt]), check=True)
    drawn = np.abs(frame(out) - frame(grey)) > 40
    rows = drawn.any(axis=1).nonzero()[0]
    assert rows.size, "no text drawn"
    thirds = [int(drawn[i * H // 3 : (i + 1) * H // 3].sum()) for i in range(3)]
    assert thirds.index(max(thirds)) == band, thirds
    columns = drawn.any(axis=0).nonzero()[0]
    assert abs((columns.min() + columns.max()) / 2 - W / 2) < W * 0.1  # centred
