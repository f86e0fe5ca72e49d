"""The faster-whisper adapter: decoding errors are told apart, options are honoured."""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from contracts import TranscribeOptions
from services.common.errors import UnreadableMedia, UnsupportedMedia
from services.transcriber.adapters.model_store import packaged_model
from services.transcriber.adapters.whisper import (
    DeviceChoice,
    WhisperEngine,
    choose_device,
    decode,
)
from tests.support import media


def test_text_is_not_media(not_media: Path) -> None:
    with pytest.raises(UnreadableMedia):
        decode(not_media)


def test_an_empty_file_is_not_media(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableMedia):
        decode(empty)


def test_cpu_gets_int8_by_default() -> None:
    assert choose_device("cpu", "auto") == DeviceChoice("cpu", "int8")
    assert choose_device("cuda", "auto") == DeviceChoice("cuda", "float16")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> WhisperEngine:
    eng = WhisperEngine(
        packaged_model(tmp_path_factory.mktemp("models")), DeviceChoice("cpu", "int8")
    )
    eng.load()
    return eng


@pytest.mark.parametrize("batch_size", [1, 8])
def test_speech_is_transcribed_with_rising_progress(
    engine: WhisperEngine, speech_wav: Path, batch_size: int
) -> None:
    progress: list[float] = []
    result = engine.transcribe(
        decode(speech_wav), TranscribeOptions(batch_size=batch_size), progress.append, lambda: False
    )
    assert result.language == "en"
    assert media.word_error_rate(media.SPEECH_TEXT, result.text) <= 0.15
    assert progress == sorted(progress) and progress[-1] > 0.9
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)


def test_word_timestamps_are_returned_when_asked(engine: WhisperEngine, speech_wav: Path) -> None:
    result = engine.transcribe(
        decode(speech_wav),
        TranscribeOptions(word_timestamps=True, batch_size=1),
        lambda _: None,
        lambda: False,
    )
    words = [w for s in result.segments for w in (s.words or [])]
    assert len(words) > 50
    assert all(w.end >= w.start for w in words)


def test_another_language_is_detected_and_transcribed_in_it(
    engine: WhisperEngine, tmp_path: Path
) -> None:
    text = "Buenos días. Hoy probamos un sistema que convierte grabaciones largas en texto."
    result = engine.transcribe(
        decode(media.speak(text, tmp_path / "es.wav", voice="es")),
        TranscribeOptions(),
        lambda _: None,
        lambda: False,
    )
    assert result.language == "es"
    assert "buenos días" in result.text.lower()


def test_silence_completes_with_no_text(engine: WhisperEngine, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0" * 16000 * 2 * 10)
    result = engine.transcribe(decode(path), TranscribeOptions(), lambda _: None, lambda: False)
    assert result.text == ""
    assert result.segments == []
    assert result.duration_s == 10.0


def test_a_video_without_sound_is_unsupported_media(tmp_path: Path) -> None:
    path = tmp_path / "silent-film.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), dtype=np.uint8), "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(UnsupportedMedia, match="no audio"):
        decode(path)
