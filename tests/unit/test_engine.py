"""The faster-whisper adapter: decoding errors are told apart, options are honoured."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import TranscribeOptions
from services.common.errors import UnreadableMedia
from services.transcriber.engine import DeviceChoice, WhisperEngine, choose_device, decode
from services.transcriber.model_store import packaged_model
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
