"""ffmpeg failing for reasons that are not the input's: a transient error (the job is
retried through JetStream redelivery), never `unreadable_media`/`unsupported_media`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.common.errors import (
    ScratchSpaceFull,
    ToolInterrupted,
    TransientError,
    UnreadableMedia,
)
from services.converter.adapters.ffmpeg import ffmpeg_binary, run_ffmpeg

pytestmark = pytest.mark.local


def tone_to(output: str, seconds: int, *, realtime: bool = False) -> list[str]:
    pace = ["-re"] if realtime else []
    return [
        ffmpeg_binary(), "-hide_banner", "-nostats", "-progress", "pipe:1", "-y",
        *pace, "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-f", "mp3", output,
    ]  # fmt: skip


async def test_a_full_disk_is_transient_not_unsupported_media() -> None:
    with pytest.raises(ScratchSpaceFull) as raised:
        await run_ffmpeg(tone_to("/dev/full", 5), 5.0, lambda _p: None, lambda: False)
    assert isinstance(raised.value, TransientError)
    assert "no space left" in raised.value.message.lower()


@pytest.mark.parametrize(
    ("signal", "error", "says"),
    [("KILL", ToolInterrupted, "signal 9"), ("SEGV", UnreadableMedia, "crashed (signal 11)")],
)
async def test_ffmpeg_stopped_by_others_is_transient_and_its_own_crash_is_the_input(
    tmp_path: Path, signal: str, error: type[Exception], says: str
) -> None:
    output = tmp_path / "killed-while-converting.mp3"
    run = asyncio.create_task(
        run_ffmpeg(tone_to(str(output), 60, realtime=True), 60.0, lambda _p: None, lambda: False)
    )
    while not output.exists():  # noqa: ASYNC110 (ffmpeg's output file appears)
        await asyncio.sleep(0.05)
    # ffmpeg is writing: kill it as the OOM killer would.
    killed = await asyncio.create_subprocess_exec("pkill", f"-{signal}", "-f", str(output))
    assert await killed.wait() == 0
    with pytest.raises(error) as raised:
        await asyncio.wait_for(run, 30)
    assert says in str(raised.value)
