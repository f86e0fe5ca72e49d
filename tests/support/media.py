"""Test media made on the fly: speech from espeak-ng, re-encoded with PyAV.

Nothing large is committed: every file is generated into a temp dir per session.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# ~30 s of clear English at espeak-ng's default rate.
SPEECH_TEXT = (
    "Good morning everyone. Today we are testing a system that turns long recordings into "
    "written text. The service reads the audio file from storage, runs the speech model, "
    "and writes the transcript back as a document. Each job reports its progress while it "
    "works, so nobody has to wait for an answer that may take many minutes. When the work "
    "is finished, the client can download the result with a short lived link. If something "
    "goes wrong, the job fails with a clear reason, and the other jobs keep running."
)


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, path: Path, voice: str = "en-us", speed: int = 150) -> Path:
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """Mono int16 samples and rate of any audio file."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.int16), rate


def encode_audio(src: Path, dst: Path, codec: str, rate: int = 44100) -> Path:
    """Re-encode speech into an audio-only container (mp3, ogg/opus, m4a...)."""
    samples, src_rate = read_pcm(src)
    with av.open(str(dst), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"  # type: ignore[attr-defined]
        _write_audio(out, stream, samples, src_rate, rate)
    return dst


def encode_video(
    src: Path,
    dst: Path,
    video_codec: str,
    audio_codec: str,
    audio_rate: int = 48000,
    fps: int = 10,
    size: tuple[int, int] = (160, 120),
) -> Path:
    """A small video (solid colour frames) carrying the speech as its audio track."""
    samples, src_rate = read_pcm(src)
    duration = len(samples) / src_rate
    with av.open(str(dst), "w") as out:
        v = out.add_stream(video_codec, rate=fps)
        width, height = size
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"  # type: ignore[attr-defined]
        a = out.add_stream(audio_codec, rate=audio_rate)
        a.layout = "stereo" if audio_codec == "libopus" else "mono"  # type: ignore[attr-defined]
        for i in range(int(duration * fps) + 1):
            img = np.full((height, width, 3), (i * 7) % 255, dtype=np.uint8)
            img[:, (i * 5) % width :, 1] = 200  # something moves: encoders have work to do
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in v.encode(frame):  # type: ignore[attr-defined]
                out.mux(packet)
        for packet in v.encode():  # type: ignore[attr-defined]
            out.mux(packet)
        _write_audio(out, a, samples, src_rate, audio_rate)
    return dst


def _write_audio(
    out: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    samples: np.ndarray,
    src_rate: int,
    rate: int,
) -> None:
    layout = stream.layout.name  # type: ignore[attr-defined]
    resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)  # type: ignore[attr-defined]
    step = 4096
    pts = 0
    for start in range(0, len(samples), step):
        chunk = samples[start : start + step].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
        frame.sample_rate = src_rate
        frame.pts = pts
        pts += chunk.shape[1]
        for resampled in resampler.resample(frame):
            for packet in stream.encode(resampled):
                out.mux(packet)
    for resampled in resampler.resample(None):
        for packet in stream.encode(resampled):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text.lower())).strip()


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))
