"""Running ffmpeg and probing media: the only module that starts processes (and the one
that uses ffmpeg-python, to compile the preset's arguments into an argv).

ffmpeg comes from the machine (Debian's package, with ffprobe) or, as a fallback, from
the `imageio-ffmpeg` wheel (ffmpeg only; probing then uses PyAV). The child is killed
on cancel or shutdown, never left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import ConvertOptions
from services.common.errors import (
    ScratchSpaceFull,
    ToolInterrupted,
    UnreadableMedia,
    UnsupportedMedia,
)
from services.common.media_checks import clock_seconds

from ..errors import FfmpegNotFound
from ..presets import GLOBAL_ARGS, ffmpeg_args, track_args

DISK_FULL_HINT = "no space left on device"
# Signals someone else sends (the OOM killer, an operator, a shutdown); a crash of
# ffmpeg itself (SIGSEGV, SIGABRT on a crafted input) is the input's doing.
STOPPED_BY_OTHERS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
UNREADABLE_HINTS = (
    "invalid data found",
    "moov atom not found",
    "could not find codec parameters",
    "end of file",
    "header missing",
    "error while decoding",
    "invalid argument",
)


def ffmpeg_binary() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise FfmpegNotFound("ffmpeg not found: install it (apt-get install ffmpeg)") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg_version() -> str:
    """e.g. "ffmpeg 5.1.6-0+deb12u1": what produces converted files (result cache key)."""
    import subprocess

    out = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    ).stdout
    words = out.split()
    return f"ffmpeg {words[2]}" if len(words) > 2 and words[0] == "ffmpeg" else "ffmpeg"


def build_command(
    binary: str,
    source: str,
    target: str,
    options: ConvertOptions,
    has_video: bool,
    subtitles: Sequence[str] = (),
) -> list[str]:
    """The full argv: global options first, then ffmpeg-python's input/output part.

    `subtitles`: SRT files, one per `options.subtitles` entry. They become soft tracks
    (every video and audio stream of the input kept beside them), or, with
    `burn_subtitles`, the first is drawn into the picture.
    """
    import ffmpeg

    burn = subtitles[0] if options.burn_subtitles and subtitles else None
    soft = [] if options.burn_subtitles else list(subtitles)
    args = ffmpeg_args(options, has_video, burn)
    main = ffmpeg.input(source, **args.input)
    if soft:
        inputs = [main["V?"], main["a?"], *(ffmpeg.input(path) for path in soft)]
        stream = ffmpeg.output(*inputs, target, **args.output)
    else:
        stream = main.output(target, **args.output)
    compiled: list[str] = stream.compile(cmd=binary)
    tracks = track_args(options, len(soft))
    return [compiled[0], *GLOBAL_ARGS, *compiled[1:-1], *tracks, compiled[-1]]


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float | None
    has_audio: bool
    has_video: bool
    format_name: str | None = None
    audio_duration_s: float | None = None  # the audio stream's own, when the file says


def probe(path: Path) -> MediaInfo:
    """Streams and duration: ffprobe (through ffmpeg-python) when present, else PyAV."""
    if shutil.which("ffprobe"):
        import ffmpeg

        try:
            info = ffmpeg.probe(str(path), v="error")
        except ffmpeg.Error as exc:
            reason = _tail(exc.stderr).replace(f"{path}: ", "")
            raise UnreadableMedia(f"cannot read media: {reason}") from exc
        streams = info.get("streams", [])
        duration = info.get("format", {}).get("duration")
        return MediaInfo(
            duration_s=float(duration) if duration else None,
            has_audio=any(s.get("codec_type") == "audio" for s in streams),
            has_video=any(
                s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
                for s in streams
            ),
            format_name=info.get("format", {}).get("format_name"),
            audio_duration_s=_audio_duration(streams),
        )
    import av

    try:
        with av.open(str(path)) as container:
            return MediaInfo(
                duration_s=container.duration / 1_000_000 if container.duration else None,
                has_audio=bool(container.streams.audio),
                has_video=bool(container.streams.video),
                format_name=container.format.name,
            )
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise UnreadableMedia(f"cannot read media: {exc}") from exc


def _audio_duration(streams: list[dict[str, Any]]) -> float | None:
    for s in streams:
        if s.get("codec_type") == "audio":
            if s.get("duration"):
                return float(s["duration"])
            return clock_seconds((s.get("tags") or {}).get("DURATION"))
    return None


def _tail(stderr: bytes | str | None, limit: int = 400) -> str:
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else (stderr or "")
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-3:])[-limit:] or "no details"


def parse_progress(line: str, duration_s: float | None) -> float | None:
    """Progress 0..1 from one `-progress` line (`out_time_us=…`), if it carries time."""
    key, _, value = line.strip().partition("=")
    if key not in ("out_time_us", "out_time_ms") or not duration_s or not value.isdigit():
        return None
    return max(0.0, min(1.0, int(value) / 1_000_000 / duration_s))


async def run_ffmpeg(
    argv: list[str],
    duration_s: float | None,
    on_progress: Callable[[float], None],
    cancelled: Callable[[], bool],
) -> None:
    """Run ffmpeg; kill it when `cancelled()` turns true or this task is cancelled."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    stderr_task = asyncio.create_task(proc.stderr.read())  # type: ignore[union-attr]
    try:
        assert proc.stdout is not None
        while True:
            if cancelled():
                raise asyncio.CancelledError
            try:
                raw = await asyncio.wait_for(proc.stdout.readline(), timeout=0.5)
            except TimeoutError:
                continue
            if not raw:
                break
            value = parse_progress(raw.decode(errors="replace"), duration_s)
            if value is not None:
                on_progress(value)
        code = await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        stderr_task.cancel()
        raise
    stderr = await stderr_task
    if code < 0:
        if -code in STOPPED_BY_OTHERS:  # not the input's fault: another attempt may succeed
            raise ToolInterrupted(f"ffmpeg was stopped by signal {-code}")
        raise UnreadableMedia(f"ffmpeg crashed (signal {-code}) decoding the input")
    if DISK_FULL_HINT in stderr.decode(errors="replace").lower():  # ffmpeg may still exit 0
        raise ScratchSpaceFull(f"ffmpeg could not write its output: {_tail(stderr)}")
    if code != 0:
        # Our temp paths mean nothing to the client: keep ffmpeg's words, not our paths.
        reason = _tail(stderr).replace(argv[argv.index("-i") + 1] + ": ", "")
        if any(h in reason.lower() for h in UNREADABLE_HINTS):
            raise UnreadableMedia(f"ffmpeg could not read the input: {reason}")
        raise UnsupportedMedia(f"ffmpeg could not convert the input: {reason}")
