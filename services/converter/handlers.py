"""The `convert` job: input from S3 → ffmpeg (preset + options) → output into S3."""

from __future__ import annotations

import asyncio
from pathlib import Path

from contracts import ConvertOptions, ConvertResult
from services.common.adapters.s3 import ObjectStore
from services.common.errors import UnreadableMedia, UnsupportedMedia
from services.common.job_context import JobCancelledError, JobContext, Outcome
from services.common.media_checks import check_complete
from services.common.metrics import S3_BYTES
from services.common.outputs import save_output
from services.common.scratch import job_scratch

from . import subtitle_files
from .adapters.ffmpeg import MediaInfo, build_command, ffmpeg_binary, probe, run_ffmpeg
from .presets import content_type, output_duration, output_name, wants_video


class ConvertJob:
    def __init__(self, store: ObjectStore, work_dir: Path | None, slots: int, threads: int) -> None:
        self._store = store
        self._work_dir = work_dir
        self._slots = asyncio.Semaphore(slots)
        self._threads = threads
        self._ffmpeg = ffmpeg_binary()

    async def __call__(self, ctx: JobContext) -> Outcome:
        run = ctx.run
        options = ctx.options(ConvertOptions)

        # Temp files live in this directory and go with it, whatever happens.
        with job_scratch(self._work_dir) as tmp:
            source = Path(tmp) / "input"
            target = Path(tmp) / output_name(options)
            S3_BYTES.labels(direction="out").inc(await self._store.download(run.input_key, source))
            info = await asyncio.to_thread(probe, source)
            _check_streams(options, info)
            subtitles = await self._subtitles(ctx, options, info, Path(tmp))
            await self._convert(ctx, options, source, target, info, subtitles)
            result_info = await asyncio.to_thread(probe, target)
            check_complete(output_duration(options, _stated(options, info)), result_info.duration_s)
            output = await save_output(
                self._store,
                run.job_id,
                output_name(options),
                content_type(options),
                target,
                result_info.duration_s,
            )
        result = ConvertResult(
            file_id=output.id,
            content_type=content_type(options),
            duration_s=result_info.duration_s,
            size=output.size,
        )
        return Outcome(result=result, outputs=[output])

    async def _subtitles(
        self, ctx: JobContext, options: ConvertOptions, info: MediaInfo, tmp: Path
    ) -> list[str]:
        """Each subtitle file, read, fitted to the output's time range and written as SRT
        (only the first when it is burnt in)."""
        files = {a.file_id: a for a in ctx.run.attachments}
        tracks = options.subtitles[:1] if options.burn_subtitles else options.subtitles
        paths = []
        for i, track in enumerate(tracks):
            attached = files.get(track.file_id) if track.file_id else None
            if attached is None:  # the ledger resolves every named file: a bad message
                raise UnreadableMedia(f"subtitles[{i}]: file {track.file_id} was not attached")
            name = attached.filename or str(attached.file_id)
            raw = tmp / f"subtitle-{i}.in"
            S3_BYTES.labels(direction="out").inc(await self._store.download(attached.key, raw))
            cues = subtitle_files.fit(
                subtitle_files.read_cues(raw.read_bytes(), name),
                options.start_s or 0.0,
                output_duration(options, info.duration_s),
            )
            if not cues:
                raise UnsupportedMedia(f"subtitle file {name!r} has no cue within the output")
            paths.append(str(subtitle_files.write_srt(cues, tmp / f"subtitle-{i}.srt")))
        return paths

    async def _convert(
        self,
        ctx: JobContext,
        options: ConvertOptions,
        source: Path,
        target: Path,
        info: MediaInfo,
        subtitles: list[str],
    ) -> None:
        argv = build_command(
            self._ffmpeg, str(source), str(target), options, info.has_video, subtitles
        )
        if self._threads:
            argv[1:1] = ["-threads", str(self._threads)]
        duration = output_duration(options, info.duration_s)
        async with self._slots:
            try:
                await run_ffmpeg(argv, duration, ctx.report_progress, ctx.cancelled)
            except asyncio.CancelledError:
                if ctx.cancelled():
                    raise JobCancelledError from None
                raise


def _stated(options: ConvertOptions, info: MediaInfo) -> float | None:
    """What the output should last: for sound alone, the audio stream's own duration
    when the file says (a video's sound may end before its picture)."""
    if not wants_video(options) and info.audio_duration_s:
        return info.audio_duration_s
    return info.duration_s


def _check_streams(options: ConvertOptions, info: MediaInfo) -> None:
    if not info.has_audio and not info.has_video:
        # Nothing decodable at all: for a damaged file this is what a probe sees.
        raise UnreadableMedia("no audio or video stream could be read from the file")
    if not wants_video(options) and not info.has_audio:
        raise UnsupportedMedia(f"preset {options.preset!r} needs audio; the file has none")
    if options.burn_subtitles and not info.has_video:
        raise UnsupportedMedia("burn_subtitles needs a video stream; the file has none")
