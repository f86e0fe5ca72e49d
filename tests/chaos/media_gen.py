"""Media made at run time (nothing committed): speech from espeak-ng, looped with ffmpeg
into long files; small SRTs for the LLM jobs. Files are cached in the run's media dir."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# About 40 s at espeak-ng's default rate (the e2e clip's text; tests/support/media.py is
# not imported: it does not pass mypy --strict, which would fail this package's check).
SPEECH_TEXT = (
    "Good morning everyone. Today we are testing a system that turns long recordings into "
    "written text. The service reads the audio file from storage, runs the speech model, "
    "and writes the transcript back as a document. Each job reports its progress while it "
    "works, so nobody has to wait for an answer that may take many minutes. When the work "
    "is finished, the client can download the result with a short lived link. If something "
    "goes wrong, the job fails with a clear reason, and the other jobs keep running."
)


def ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def speech(media_dir: Path) -> Path:
    """About 40 s of clear English (WAV)."""
    path = media_dir / "speech.wav"
    if not path.exists():
        argv = ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), SPEECH_TEXT]
        subprocess.run(argv, check=True, capture_output=True)
    return path


def looped(media_dir: Path, seconds: int, name: str, codec_args: list[str]) -> Path:
    """The speech clip looped to `seconds` long, encoded with `codec_args`."""
    path = media_dir / name
    if not path.exists():
        tmp = path.with_suffix(".part" + path.suffix)
        argv = [ffmpeg(), "-nostdin", "-v", "error", "-y", "-stream_loop", "-1"]
        argv += ["-i", str(speech(media_dir)), "-t", str(seconds), *codec_args, str(tmp)]
        subprocess.run(argv, check=True, capture_output=True)
        tmp.rename(path)
    return path


def long_wav(media_dir: Path, minutes: int = 8) -> Path:
    """Minutes of speech as 16-bit WAV: converting it to MP3 takes a few seconds."""
    return looped(media_dir, minutes * 60, f"speech-{minutes}m.wav", ["-c:a", "pcm_s16le"])


def long_mp3(media_dir: Path, minutes: int = 80) -> Path:
    """The long-recording case: `minutes` of speech as a small mono MP3."""
    args = ["-ac", "1", "-ar", "16000", "-c:a", "libmp3lame", "-b:a", "32k"]
    return looped(media_dir, minutes * 60, f"speech-{minutes}m.mp3", args)


def srt(media_dir: Path, cues: int = 12) -> Path:
    """An SRT with typos for fix_srt (the fake LLM fixes "teh" and "recieve")."""
    path = media_dir / f"talk-{cues}.srt"
    if not path.exists():
        blocks = [
            f"{i}\n00:00:{i:02d},000 --> 00:00:{i:02d},900\n"
            f"{'teh' if i % 2 else 'a'} cue number {i} we recieve\n"
            for i in range(1, cues + 1)
        ]
        path.write_text("\n".join(blocks))
    return path
