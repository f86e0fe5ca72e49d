"""Subtitle files a convert carries or burns in: SRT or WebVTT in, clean SRT out, fitted
to the output's time range. Pure apart from the file it writes.

ffmpeg could read either format itself, but then an empty or broken file surfaces as an
opaque ffmpeg error (or a silent empty track), and cues past the end of the video would
stretch the output. Reading them here gives `unreadable_media` naming the file, and
trims what runs over.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import srt
import webvtt

from services.common.errors import UnreadableMedia

VOICE = re.compile(r"^\s*<v(?:\.[\w.-]+)?\s+([^>]+)>")


def read_cues(data: bytes, name: str) -> list[srt.Subtitle]:
    """The cues of an SRT or WebVTT file, in time order; UnreadableMedia when it has
    none or is neither format."""
    text = _decode(data).lstrip()
    try:
        if text.startswith("WEBVTT"):
            cues = _vtt_cues(text)
        else:
            cues = [c for c in srt.parse(text) if c.content.strip()]
    except (srt.SRTParseError, webvtt.errors.MalformedFileError, ValueError) as exc:
        raise UnreadableMedia(f"subtitle file {name!r} is not SRT or WebVTT: {exc}") from exc
    if not cues:
        raise UnreadableMedia(f"subtitle file {name!r} has no cues")
    return sorted(cues, key=lambda c: (c.start, c.end))


def fit(cues: list[srt.Subtitle], start_s: float, duration_s: float | None) -> list[srt.Subtitle]:
    """The cues as the output's clock sees them: shifted by the trim's start, cut at the
    output's end; cues wholly outside are dropped."""
    offset = timedelta(seconds=start_s)
    end = timedelta(seconds=duration_s) if duration_s is not None else None
    out: list[srt.Subtitle] = []
    for cue in cues:
        begin, finish = max(cue.start - offset, timedelta(0)), cue.end - offset
        if end is not None:
            finish = min(finish, end)
        if finish > begin:
            out.append(srt.Subtitle(len(out) + 1, begin, finish, cue.content))
    return out


def write_srt(cues: list[srt.Subtitle], path: Path) -> Path:
    path.write_text(srt.compose(cues, reindex=True), encoding="utf-8")
    return path


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM (Windows tools), else Latin-1."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _vtt_cues(text: str) -> list[srt.Subtitle]:
    out: list[srt.Subtitle] = []
    for caption in webvtt.from_string(text).captions:
        content = caption.text.strip()
        voice = VOICE.match(caption.raw_text)
        if voice and content:
            content = f"{voice.group(1).strip()}: {content}"  # who speaks, as SRT writes it
        if content:
            start, end = _seconds(caption.start), _seconds(caption.end)
            out.append(srt.Subtitle(len(out) + 1, start, end, content))
    return out


def _seconds(stamp: str) -> timedelta:
    """ "hh:mm:ss.mmm" (webvtt-py's normal form) as a timedelta."""
    hours, minutes, seconds = stamp.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))
