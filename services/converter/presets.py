"""ConvertOptions → ffmpeg's arguments (the adapter compiles them into argv): pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts import ConvertOptions, SubtitleStyle

# Before ffmpeg's own arguments: quiet, never interactive, progress lines on stdout.
GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-y", "-nostats", "-progress", "pipe:1")


@dataclass(frozen=True)
class Preset:
    extension: str
    content_type: str
    audio_content_type: str
    video: bool  # carries a video stream unless audio_only
    output_args: dict[str, Any]


# H.264 + AAC, shared by the MP4 and MKV presets.
H264_AAC: dict[str, Any] = {
    "vcodec": "libx264",
    "acodec": "aac",
    "pix_fmt": "yuv420p",
    "preset": "veryfast",
    "crf": 23,
}

PRESETS: dict[str, Preset] = {
    "mp4": Preset(
        "mp4",
        "video/mp4",
        "audio/mp4",
        True,
        {**H264_AAC, "movflags": "+faststart", "f": "mp4"},
    ),
    "mkv": Preset(
        "mkv",
        "video/x-matroska",
        "audio/x-matroska",
        True,
        {**H264_AAC, "f": "matroska"},
    ),
    "webm": Preset(
        "webm",
        "video/webm",
        "audio/webm",
        True,
        {
            "vcodec": "libvpx-vp9",
            "acodec": "libopus",
            "crf": 32,
            "b:v": 0,
            "deadline": "good",
            "cpu-used": 4,
            "row-mt": 1,
            "f": "webm",
        },
    ),
    "audio_wav_16k_mono": Preset(
        "wav",
        "audio/wav",
        "audio/wav",
        False,
        {"acodec": "pcm_s16le", "ac": 1, "ar": 16000, "f": "wav"},
    ),
    "mp3": Preset(
        "mp3",
        "audio/mpeg",
        "audio/mpeg",
        False,
        {"acodec": "libmp3lame", "b:a": "192k", "f": "mp3"},
    ),
    "m4a": Preset(
        "m4a",
        "audio/mp4",
        "audio/mp4",
        False,
        {"acodec": "aac", "b:a": "160k", "movflags": "+faststart", "f": "ipod"},
    ),
}


# The subtitle codec each container carries text tracks in.
SUBTITLE_CODECS = {"mp4": "mov_text", "mkv": "srt", "webm": "webvtt"}
# force_style's Alignment, which ffmpeg's SRT-to-ASS style reads in the legacy SSA
# numbering (1-3 bottom, +4 top, +8 middle): 2 bottom, 6 top, 10 middle, each centred.
ALIGNMENT = {"bottom": 2, "middle": 10, "top": 6}


def output_name(options: ConvertOptions) -> str:
    return f"converted.{PRESETS[options.preset].extension}"


def content_type(options: ConvertOptions) -> str:
    preset = PRESETS[options.preset]
    return preset.audio_content_type if options.audio_only else preset.content_type


def wants_video(options: ConvertOptions) -> bool:
    return PRESETS[options.preset].video and not options.audio_only


@dataclass(frozen=True)
class FfmpegArgs:
    """ffmpeg's input and output options, as ffmpeg-python keyword arguments."""

    input: dict[str, Any]
    output: dict[str, Any]


def ffmpeg_args(options: ConvertOptions, has_video: bool, burn: str | None = None) -> FfmpegArgs:
    """The preset's options with the job's own (trim, size, bitrates) applied; `burn`:
    the SRT file to draw into the picture."""
    preset = PRESETS[options.preset]
    args = dict(preset.output_args)
    input_args: dict[str, Any] = {}
    if options.start_s is not None:
        input_args["ss"] = options.start_s  # before -i: fast, frame-accurate with re-encode
    if options.end_s is not None:
        args["t"] = options.end_s - (options.start_s or 0.0)
    if not wants_video(options) or not has_video:
        args.pop("vcodec", None)
        args.pop("pix_fmt", None)
        args.pop("preset", None)
        args.pop("crf", None)
        args.pop("b:v", None)
        args["vn"] = None
    else:
        filters = []
        if options.max_height:
            # Never upscale; -2 keeps the width even, as H.264 needs.
            filters.append(f"scale=-2:min(ih\\,{options.max_height})")
        if burn is not None:
            filters.append(burn_filter(burn, options.subtitle_style or SubtitleStyle()))
        if filters:
            args["vf"] = ",".join(filters)
        if options.crf is not None:
            args["crf"] = options.crf
        if options.video_bitrate:
            args["b:v"] = options.video_bitrate
            args.pop("crf", None)
    if options.audio_bitrate and args.get("acodec") != "pcm_s16le":
        args["b:a"] = options.audio_bitrate
    args["map_metadata"] = -1  # client text from the input never travels along
    return FfmpegArgs(input=input_args, output=args)


def burn_filter(path: str, style: SubtitleStyle) -> str:
    """ffmpeg's `subtitles` filter (libass) drawing `path` in `style`."""
    if any(c in path for c in "'\\"):
        raise ValueError(f"scratch path {path!r} cannot be quoted for ffmpeg's filter")
    force = ",".join(
        [
            f"FontSize={style.font_size}",
            f"Alignment={ALIGNMENT[style.position]}",
            f"Outline={style.outline:g}",
            "BorderStyle=1",
            f"MarginV={style.margin}",
            f"PrimaryColour={_ass_colour(style.color)}",
            f"OutlineColour={_ass_colour(style.outline_color)}",
        ]
    )
    return f"subtitles=filename='{path}':force_style='{force}'"


def _ass_colour(hex_rgb: str) -> str:
    """#RRGGBB as ASS writes colours: &H00BBGGRR (alpha first, then blue, green, red)."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"&H00{b}{g}{r}".upper()


def track_args(options: ConvertOptions, count: int) -> list[str]:
    """ffmpeg's output arguments for the first `count` soft subtitle tracks: codec,
    language, title, the first one default. Raw argv: ffmpeg-python's keyword form
    cannot repeat `-metadata:s:s:N` for a second tag."""
    if count == 0:
        return []
    args = ["-c:s", SUBTITLE_CODECS[options.preset], "-disposition:s:0", "default"]
    for i, track in enumerate(options.subtitles[:count]):
        args += [f"-metadata:s:s:{i}", f"language={track.language or 'und'}"]
        if track.title:
            args += [f"-metadata:s:s:{i}", f"title={track.title}"]
            if options.preset == "mp4":  # MP4 keeps a track's name as its handler's
                args += [f"-metadata:s:s:{i}", f"handler_name={track.title}"]
    return args


def output_duration(options: ConvertOptions, input_duration_s: float | None) -> float | None:
    """How long the output runs (the trim applied), when the input's duration is known."""
    if input_duration_s is None:
        return None
    end = options.end_s if options.end_s is not None else input_duration_s
    return max(0.0, min(end, input_duration_s) - (options.start_s or 0.0))
